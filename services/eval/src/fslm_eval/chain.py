"""Where in a stack's chain wrong answers start, from the texts its stages wrote for each document.

For each held-out task there is a rule that says whether one stage's text already holds the right
answer (the task's own rule wherever it applies to free text):

- arithmetic: the text's final number is the answer (fslm_trainer.answers.final_number, the rule the
  task scores the last stage by);
- instructions: the text passes the item's programmatic check (evals/tasks/checks.py, the task's own);
- wordnet-mc and wordnet-mc-answer (the same items): the text points at the right gloss: of the four
  choices, the right one shares the largest part of its content words with the text, and no other
  choice shares as large a part (`gloss_choice`).
  The last stage writes no text on this task (it scores the choices): its hit is the document's `acc`.

A document counts as wrong by the task's metric (exact_match, pass, acc). For each stage: the share of
documents whose text holds the answer; of the wrong documents: how many had it at an earlier stage and
lost it later, and how many never had it at any stage."""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Callable

from fslm_trainer.answers import final_number

from .paths import HELD_OUT_TASKS

# Function words left out of the gloss overlap: they say nothing about which sense a text names.
_STOP = frozenset("""a an the of or and to in on at by for with as from into that this which who whom whose
is are was were be been being it its something someone one ones used use having has have not no any some
very more most than such so""".split())
_WORD = re.compile(r"[a-z]+")


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP}


def gloss_choice(text: str, choices: list[str]) -> int | None:
    """The choice a text points at: the one whose content words (lower-case, 3+ letters, not function
    words) appear in the text in the largest share; None when no choice shares a word or two tie."""
    words = _content_words(text)
    shares = []
    for choice in choices:
        own = _content_words(choice)
        shares.append(len(own & words) / len(own) if own else 0.0)
    best = max(shares, default=0.0)
    if best == 0.0 or shares.count(best) > 1:
        return None
    return shares.index(best)


@cache
def _instruction_check() -> Callable[[dict, str], bool]:
    spec = importlib.util.spec_from_file_location("fslm_heldout_checks", HELD_OUT_TASKS / "checks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.passes


def _arithmetic_hit(doc: dict, text: str) -> bool:
    return final_number(text) == float(doc["answer"])


def _instructions_hit(doc: dict, text: str) -> bool:
    return bool(_instruction_check()(doc["check"], text))


def _wordnet_hit(doc: dict, text: str) -> bool:
    return gloss_choice(text, doc["choices"]) == doc["gold"]


# task -> (the lm-eval request type its documents use, the task's metric, the rule for one stage's text,
# the rule in words for the report)
RULES: dict[str, tuple[str, str, Callable[[dict, str], bool], str]] = {
    "arithmetic": ("generate_until", "exact_match", _arithmetic_hit, "the text's final number is the answer"),
    "instructions": ("generate_until", "pass", _instructions_hit, "the text passes the item's check"),
    "wordnet-mc": ("loglikelihood", "acc", _wordnet_hit,
                   "the text points at the right gloss (most of its words; the scoring stage: acc)"),
}
RULES["wordnet-mc-answer"] = RULES["wordnet-mc"]


def read_jsonl(path: Path) -> list[dict]:
    """The rows of a JSONL file of an eval output folder; [] when it does not exist."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()] if path.is_file() else []


def chain_analysis(out: Path, system: str, task: str = "arithmetic") -> dict | None:
    """For one system and task of an `fslm eval` output folder: {"task", "rule", "documents", "stages":
    [{"stage", "holds_answer"}], "wrong", "wrong_but_an_earlier_stage_had_it", "wrong_and_no_stage_had_it"}.
    None when the task has no rule or the system wrote no per-stage texts for it (not a stack)."""
    if task not in RULES:
        return None
    method, metric, hit, rule = RULES[task]
    samples = {s["doc_id"]: s for s in read_jsonl(out / "samples" / system / f"{task}.jsonl")}
    records = []
    for r in read_jsonl(out / "stats" / f"{system}.jsonl"):
        # A request answers its own document and, under "also", those of tasks that shared its context.
        for named in [r, *r.get("also", [])]:
            if named.get("task") == task and r.get("method") == method and named["doc_id"] in samples:
                records.append({**r, "doc_id": named["doc_id"]})
    if not records or not all(len(r["stages"]) > 1 and all("text" in s for s in r["stages"][:-1]) for r in records):
        return None
    order = [s["stage"] for s in records[0]["stages"]]
    right = {name: 0 for name in order}
    lost = never = wrong = 0
    for r in records:
        sample = samples[r["doc_id"]]
        correct = bool(sample.get(metric))
        hits = [hit(sample["doc"], s["text"]) if "text" in s else correct for s in r["stages"]]
        for name, h in zip(order, hits):
            right[name] += h
        if not correct:
            wrong += 1
            lost += any(hits[:-1])
            never += not any(hits)
    n = len(records)
    return {"task": task, "rule": rule, "documents": n,
            "stages": [{"stage": name, "holds_answer": right[name] / n} for name in order],
            "wrong": wrong, "wrong_but_an_earlier_stage_had_it": lost, "wrong_and_no_stage_had_it": never}

"""Where in a stack's chain wrong answers start, for tasks whose answer is a number (arithmetic): for each
stage, the share of documents whose text's final number (fslm_trainer.answers.final_number, the rule
the task scores by) is the answer; and of the documents the stack got wrong, how many had the answer at
an earlier stage and lost it later, and how many never had it."""

from __future__ import annotations

import json
from pathlib import Path

from fslm_trainer.answers import final_number


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()] if path.is_file() else []


def chain_analysis(out: Path, system: str, task: str = "arithmetic") -> dict | None:
    """None when the system has no per-stage texts for the task (not a stack, or no such task)."""
    samples = {s["doc_id"]: s for s in _jsonl(out / "samples" / system / f"{task}.jsonl")}
    records = [r for r in _jsonl(out / "stats" / f"{system}.jsonl") if r.get("task") == task and r.get("method") == "generate_until"]
    if not samples or not records or not all(len(r["stages"]) > 1 and all("text" in s for s in r["stages"]) for r in records):
        return None
    order = [s["stage"] for s in records[0]["stages"]]
    right = {name: 0 for name in order}
    lost = never = wrong = 0
    for r in records:
        sample = samples.get(r["doc_id"])
        if sample is None:
            continue
        answer = float(sample["doc"]["answer"])
        hits = [final_number(s["text"]) == answer for s in r["stages"]]
        for name, hit in zip(order, hits):
            right[name] += hit
        if not sample.get("exact_match"):
            wrong += 1
            lost += any(hits[:-1])
            never += not any(hits)
    n = len(records)
    return {"documents": n, "stages": [{"stage": name, "final_number_is_answer": right[name] / n if n else 0.0} for name in order],
            "wrong": wrong, "wrong_but_an_earlier_stage_had_it": lost, "wrong_and_no_stage_had_it": never}

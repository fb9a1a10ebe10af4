"""distill's outputs: the per-stage JSONL files (rebuilt from the journal, in source order), the
skipped rows with their reasons, and summary.json."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .jsonl import read_journal, write_atomic
from .log import log

SKIPPED = "skipped.jsonl"
SUMMARY = "summary.json"


@dataclass
class Summary:
    rows: int = 0
    already_done: int = 0  # finished (kept or skipped) by an earlier run: not asked again
    new: int = 0  # finished in this run
    kept_new: int = 0
    failed: int = 0  # teacher unreachable: not journaled, asked again on the next run
    skipped_new: Counter = field(default_factory=Counter)  # reason -> rows skipped in this run
    replaced_by_reference: Counter = field(default_factory=Counter)  # stage -> texts replaced in this run
    elapsed_s: float = 0.0

    def count(self, record: dict) -> None:
        self.new += 1
        if record["status"] == "ok":
            self.kept_new += 1
            for name, s in record["stages"].items():
                if s["author"] == "reference":
                    self.replaced_by_reference[name] += 1
        else:
            self.skipped_new[record["reason"]] += 1


def materialize(out: Path, stack, sources, data: Path, teacher: str, trace_id: str, summary: Summary) -> dict:
    latest = {r["key"]: r for r in read_journal(out / "journal.jsonl")}
    per_stage: dict[str, list[dict]] = {s.name: [] for s in stack.stages}
    skipped: list[dict] = []
    reasons: Counter = Counter()
    source_uri = data.resolve().as_uri()
    for src in sources:
        rec = latest.get(src.key)
        if rec is None:
            continue
        if rec["status"] != "ok":
            reasons[rec["reason"]] += 1
            skipped.append({"line": src.line, "key": src.key, **{k: rec[k] for k in ("reason", "stage", "detail", "text") if k in rec}})
            continue
        for stage in stack.stages:
            s = rec["stages"].get(stage.name)
            if s is None:  # journaled for another stack of the same output directory
                continue
            per_stage[stage.name].append({
                "stage": stage.name, "system": s["system"], "prompt": s["prompt"], "completion": s["completion"],
                # The template's values: `fslm trainer finetune --stack --stage` renders the prompt from them.
                **({"input": s["input"], "stages": s["stages"]} if "input" in s else {}),
                "provenance": {
                    "teacher": teacher if s["author"] == "teacher" else "reference",
                    "teacher_rejected": s.get("rejected"),
                    "prompt_version": stage.prompt_version, "stack": stack.name,
                    "source": {"file": source_uri, "line": src.line, "key": src.key},
                    "finish_reason": s.get("finish_reason"), "created": rec.get("created"), "trace_id": trace_id,
                },
            })
    for name, records in per_stage.items():
        write_atomic(out / f"{name}.jsonl", records)
    write_atomic(out / SKIPPED, skipped)
    kept = len(per_stage[stack.stages[-1].name])
    result = {
        "out": str(out), "stack": stack.name, "teacher": teacher, "trace_id": trace_id,
        "rows": summary.rows, "kept": kept,
        "skipped": dict(reasons),  # rows left out of the stage files, by reason (every run)
        "pending": summary.rows - kept - len(skipped),  # not finished yet: a rerun asks for them
        "this_run": {
            "already_done": summary.already_done,  # finished by an earlier run: not asked again
            "finished": summary.new, "kept": summary.kept_new, "skipped": dict(summary.skipped_new),
            "replaced_by_reference": dict(summary.replaced_by_reference),
            "failed": summary.failed, "elapsed_s": summary.elapsed_s,
        },
        "files": {name: str(out / f"{name}.jsonl") for name in per_stage},
    }
    (out / SUMMARY).write_text(json.dumps(result, indent=2) + "\n")
    why = ", ".join(f"{k} {v}" for k, v in reasons.items()) or "none"
    log(f"distill: {kept} of {summary.rows} rows kept; skipped: {why}; {summary.already_done} already done before "
        f"this run; {summary.failed} failed (teacher unreachable); {result['pending']} pending")
    return result

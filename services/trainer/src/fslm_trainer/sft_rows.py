"""One stage's training rows (JSONL: prompt, completion, optional system and stage), checked
without loading torch, so bad data fails in well under a second."""

from __future__ import annotations

from pathlib import Path

from .exitcodes import BadInput
from .jsonl import read_rows, require_fields


def load_rows(path: Path, stage: str) -> list[dict]:
    rows = read_rows(path, "training data")
    require_fields(rows, "training data", path, {"prompt": False, "completion": True}, optional=("system", "stage"))
    if stage:
        wrong = [(n, r["stage"]) for n, r in rows if r.get("stage") not in (None, "", stage)]
        if wrong:
            n, other = wrong[0]
            raise BadInput(f"training data {path}: line {n} is for stage {other!r}, not {stage!r} "
                           f"({len(wrong)} such rows)")
    return [r for _, r in rows]

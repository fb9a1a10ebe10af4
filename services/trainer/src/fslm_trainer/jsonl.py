"""JSON Lines in and out: input rows with their line numbers and clear errors, and an append-only
journal that survives a kill (a torn last line is dropped when it is read back)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Iterator

from .exitcodes import BadInput
from .outdir import atomic_write_text

MAX_PROBLEMS_SHOWN = 5


def read_rows(path: Path, what: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line; BadInput for an empty file or a line that is
    not a JSON object (naming up to five of them)."""
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[str] = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(f"line {n}: not valid JSON ({e.msg})")
                continue
            if not isinstance(obj, dict):
                problems.append(f"line {n}: expected a JSON object, got {type(obj).__name__}")
                continue
            rows.append((n, obj))
    if problems:
        raise BadInput(f"{what} {path}: {len(problems)} bad line(s): " + "; ".join(problems[:MAX_PROBLEMS_SHOWN]))
    if not rows:
        raise BadInput(f"{what} {path} is empty: no JSON rows")
    return rows


def require_fields(rows: list[tuple[int, dict]], what: str, path: Path, required: dict[str, bool],
                   optional: tuple[str, ...] = ()) -> None:
    """Each `required` field must be a string (non-empty when its flag is True); `optional` fields, when
    present, must be strings. BadInput lists the first few problems."""
    problems: list[str] = []
    for n, row in rows:
        for key, non_empty in required.items():
            v = row.get(key)
            if key not in row:
                problems.append(f"line {n}: missing field {key!r}")
            elif not isinstance(v, str):
                problems.append(f"line {n}: field {key!r} must be a string, got {type(v).__name__}")
            elif non_empty and not v.strip():
                problems.append(f"line {n}: field {key!r} is empty")
        for key in optional:
            if key in row and row[key] is not None and not isinstance(row[key], str):
                problems.append(f"line {n}: field {key!r} must be a string, got {type(row[key]).__name__}")
    if problems:
        raise BadInput(f"{what} {path}: {len(problems)} problem(s): " + "; ".join(problems[:MAX_PROBLEMS_SHOWN])
                       + ("; ..." if len(problems) > MAX_PROBLEMS_SHOWN else ""))


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """Records of an append-only journal; a line that does not parse (a write cut short) is skipped."""
    if not path.is_file():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                yield obj


class Journal:
    """Appends one JSON record per line, flushed and fsynced, from any thread."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_tail(path)
        self._f = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    @staticmethod
    def _repair_tail(path: Path) -> None:
        """A kill during a write can leave a last line without its newline: cut it off."""
        if not path.is_file() or path.stat().st_size == 0:
            return
        data = path.read_bytes()
        if not data.endswith(b"\n"):
            with open(path, "r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self._f.write(line)
            self._f.flush()
            os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()


def write_atomic(path: Path, records: list[dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))

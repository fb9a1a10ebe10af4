"""Training progress for people and controllers: JSON lines on stdout, the same latest state in a
status file (rewritten atomically), and the Pod's progress annotation when running in a cluster."""

from __future__ import annotations

import json
import math
import sys
import time
from collections import deque
from pathlib import Path

from .k8s_pod import PodAnnotator
from .outdir import atomic_write_text


def emit(record: dict) -> None:
    """One JSON line on the process's real stdout (the CLI sends everything else to stderr)."""
    out = sys.__stdout__ or sys.stdout
    out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()


def _num(v: float | None, digits: int = 6) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return float(f"{v:.{digits}g}")


class Progress:
    def __init__(self, total: int, status_file: Path | None, trace_id: str, stage: str,
                 annotator: PodAnnotator | None = None, window: int = 20):
        self.total = total
        self.status_file = status_file
        self.trace_id = trace_id
        self.stage = stage
        self.annotator = annotator
        self.eval_loss: float | None = None
        self._times: deque[tuple[float, int]] = deque(maxlen=window)  # (step seconds, tokens)
        self._status: dict = {}

    def event(self, kind: str, **fields) -> None:
        emit({"event": kind, "stage": self.stage, "trace_id": self.trace_id, **fields})

    def phase(self, phase: str, **fields) -> None:
        self._status.update({"phase": phase, **fields})
        self._write_status()
        self.event("phase", phase=phase, **fields)

    def step(self, step: int, loss: float, lr: float, seconds: float, tokens: int, log_it: bool) -> None:
        self._times.append((seconds, tokens))
        secs = sum(t for t, _ in self._times)
        toks = sum(n for _, n in self._times)
        tps = toks / secs if secs > 0 else None
        eta = (self.total - step) * secs / len(self._times) if self._times else None
        record = {"step": step, "total": self.total, "loss": _num(loss), "lr": _num(lr, 4),
                  "tokens_per_s": _num(tps, 4), "eta_s": _num(eta, 4), "eval_loss": _num(self.eval_loss)}
        if log_it or step == self.total:
            self.event("step", **record)
        self._status.update({"phase": "training", **record})
        self._write_status()
        self._annotate(record)

    def evaluated(self, step: int, eval_loss: float) -> None:
        self.eval_loss = eval_loss
        self._status["eval_loss"] = _num(eval_loss)
        self.event("eval", step=step, eval_loss=_num(eval_loss))
        self._write_status()

    def _annotate(self, record: dict) -> None:
        if self.annotator:
            keys = ("step", "total", "loss", "eval_loss", "tokens_per_s", "eta_s")
            self.annotator.update({k: record[k] for k in keys if record.get(k) is not None})

    def finish(self, **fields) -> None:
        self._status.update({"phase": "succeeded", **fields})
        self._write_status()
        if self.annotator:
            self._annotate({**self._status, "eta_s": 0})
            self.annotator.close()

    def fail(self, message: str, exit_code: int) -> None:
        self._status.update({"phase": "failed", "error": message, "exit_code": exit_code})
        self._write_status()
        if self.annotator:
            self.annotator.close()

    def _write_status(self) -> None:
        if not self.status_file:
            return
        self.status_file.parent.mkdir(parents=True, exist_ok=True)
        body = {"stage": self.stage, "trace_id": self.trace_id, "updated": time.time(), **self._status}
        atomic_write_text(self.status_file, json.dumps(body) + "\n")

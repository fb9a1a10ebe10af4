"""fslm processes that fslm eval starts for a system: `fslm stage` for an artifact, `fslm up` for a stack
file. Each waits for its ready line (bounded), logs to a file, and is stopped with SIGTERM (then
SIGKILL to its process group after a bound) when the evaluation ends or fails."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

from .paths import FSLM_BIN, REPO_ROOT, node
from .wire import EvalError

READY_TIMEOUT_S = 900.0  # `fslm up` may build (or find cached) model artifacts first
STOP_TIMEOUT_S = 30.0


class FslmProcess:
    """A started fslm command and the JSON event it printed when ready."""

    def __init__(self, args: list[str], ready_event: str, log_path: Path, timeout_s: float = READY_TIMEOUT_S):
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(log_path, "ab")
        self.args = args
        self.proc = subprocess.Popen([node(), str(FSLM_BIN), *args], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                     stderr=self.log, start_new_session=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        try:
            self.ready = self._wait_ready(lines, ready_event, timeout_s)
        except BaseException:
            self.stop()
            raise

    def _pump(self, lines: queue.Queue) -> None:
        for raw in self.proc.stdout:
            self.log.write(raw)
            self.log.flush()
            lines.put(raw.decode("utf-8", "replace"))
        lines.put(None)

    def _wait_ready(self, lines: queue.Queue, event: str, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise EvalError(f"fslm {' '.join(self.args[:1])} was not ready within {timeout_s:.0f} s (log: {self.log.name})")
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise EvalError(f"fslm {' '.join(self.args)} exited with {self.proc.wait()} before it was ready (log: {self.log.name})")
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(parsed, dict) and parsed.get("event") == event:
                return parsed

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL to the whole process group after STOP_TIMEOUT_S; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.log.close()
        return self.proc.returncode


def start_stage(model_dir: Path, log_path: Path, threads: int | None) -> FslmProcess:
    args = ["stage", "--model", str(model_dir), "--grpc", "127.0.0.1:0"]
    if threads:
        args += ["--threads", str(threads)]
    return FslmProcess(args, "listening", log_path)


def start_stack(stack_file: Path, log_path: Path, threads: int | None) -> FslmProcess:
    args = ["up", "--stack", str(stack_file), "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0", "--no-setup"]
    if threads:
        args += ["--threads", str(threads)]
    return FslmProcess(args, "up", log_path)

"""Child processes in tests, bounded: wait for a JSON event on a child's stdout with a timeout, and stop
the child (SIGTERM, then SIGKILL after a grace period) however the test ends."""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

Event = dict


class EventReader:
    """Reads a text-mode child's stdout on a thread, so the child never blocks on a full pipe, and hands
    out its JSON-object lines (other lines are kept only in `lines`)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.events: list[Event] = []
        self.lines: list[str] = []
        self._queue: queue.Queue[Event | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict):
                self._queue.put(event)
        self._queue.put(None)

    def wait_for(self, match: Callable[[Event], bool], timeout_s: float, what: str) -> Event:
        """Returns the next event that matches. Raises TimeoutError after `timeout_s`, or RuntimeError when
        stdout ends (the child exited) first."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            try:
                event = self._queue.get(timeout=max(left, 0))
            except queue.Empty:
                raise TimeoutError(f"no {what} within {timeout_s}s; last output: {''.join(self.lines[-5:])}") from None
            if event is None:
                self._queue.put(None)
                raise RuntimeError(f"the process ended (exit {self.proc.wait()}) before {what}; "
                                   f"last output: {''.join(self.lines[-5:])}")
            self.events.append(event)
            if match(event):
                return event


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, grace_s: float = 30) -> int:
    """Sends `sig` unless the process has exited, waits up to `grace_s`, then SIGKILLs; returns its exit status."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            return proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


@contextlib.contextmanager
def stopped_at_exit(proc: subprocess.Popen, grace_s: float = 30) -> Iterator[subprocess.Popen]:
    """Yields `proc` and stops it (see `stop`) when the block ends, by failure or timeout included."""
    try:
        yield proc
    finally:
        stop(proc, grace_s=grace_s)


@contextlib.contextmanager
def fslm_up(root: Path, stack_file: Path, timeout_s: float = 240) -> Iterator[Event]:
    """`fslm up` on `stack_file` (its nats-server, one stage process per stage, the router on free loopback
    ports, one intra-op thread each); yields its `up` event (router and stage addresses) and stops it with
    everything it started when the block ends, a failed start included."""
    proc = subprocess.Popen(["node", "bin/fslm.js", "up", "--stack", str(stack_file), "--no-setup", "--threads", "1",
                             "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    with stopped_at_exit(proc):
        yield EventReader(proc).wait_for(lambda e: e.get("event") == "up", timeout_s, "the `up` event of fslm up")

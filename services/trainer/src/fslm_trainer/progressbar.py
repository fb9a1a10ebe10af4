"""A progress bar on stderr: redrawn in place on a terminal, a plain line every few seconds otherwise."""

from __future__ import annotations

import sys
import time

LINE_EVERY_S = 5.0
WIDTH = 30


class Bar:
    def __init__(self, total: int, start: int = 0, stream=None):
        self.total, self.start = total, start
        self.stream = stream or sys.stderr
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.t0 = time.monotonic()
        self._last = 0.0
        self._text = ""

    def update(self, summary) -> None:
        done = self.start + summary.new + summary.failed
        elapsed = time.monotonic() - self.t0
        rate = (summary.new + summary.failed) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else float("nan")
        filled = int(WIDTH * done / max(1, self.total))
        skipped = sum(summary.skipped_new.values())
        self._text = (f"[{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{self.total} rows, {summary.kept_new} kept, "
                      f"{skipped} skipped, {summary.failed} failed, {rate:.2f} rows/s, ETA {_dur(eta)}")
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r" + self._text)
            self.stream.flush()
        elif now - self._last >= LINE_EVERY_S or done == self.total:
            self.stream.write(f"[distill] {self._text}\n")
            self.stream.flush()
            self._last = now

    def close(self) -> None:
        if self.tty and self._text:
            self.stream.write("\n")
            self.stream.flush()


def _dur(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "?"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"

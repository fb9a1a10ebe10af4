"""Progress lines on stderr (stdout is kept for results)."""

import sys
import time

_T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[fslm-trainer {time.monotonic() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)

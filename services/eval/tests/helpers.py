"""Helpers of fslm eval's tests: where things are, and `fslm eval` run as a bounded subprocess. This
folder is a package (tests.*), so its modules never clash with the trainer's tests in one pytest run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DATA = Path(__file__).resolve().parent / "data"
# Everything stays on this machine: no Hugging Face Hub or dataset downloads (as `fslm eval` sets).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
for src in (ROOT / "services/eval/src", ROOT / "services/trainer/src"):
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))


def run_eval(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """`python -m fslm_eval ARGS` as `fslm eval` runs it (this checkout's sources, bounded)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "services/eval/src"), str(ROOT / "services/trainer/src")]),
           "FSLM_NODE": os.environ.get("FSLM_NODE", "node")}
    return subprocess.run([sys.executable, "-m", "fslm_eval", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

"""Fixtures of fslm eval's tests: the test models from scripts/models (`--only tiny`: the tiny Llama as an
HF directory and as a stage artifact, cached by content hash) and a runner for the `fslm eval` module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# Everything stays on this machine: no Hugging Face Hub or dataset downloads (as `fslm eval` sets).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
DATA = Path(__file__).resolve().parent / "data"
for src in (ROOT / "services/eval/src", ROOT / "services/trainer/src"):
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))


@pytest.fixture(scope="session")
def tiny_models() -> dict[str, Path]:
    """FSLM_TEST_MODELS=FILE (a JSON object of name -> path, as scripts/models prints) skips scripts/models."""
    given = os.environ.get("FSLM_TEST_MODELS")
    if given:
        return {k: Path(v) for k, v in json.loads(Path(given).read_text()).items()}
    run = subprocess.run([str(ROOT / "scripts" / "models"), "--only", "tiny"], capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-3000:]
    return {k: Path(v) for k, v in json.loads(run.stdout.strip().splitlines()[-1]).items()}


def run_eval(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """`python -m fslm_eval ARGS` as `fslm eval` runs it (this checkout's sources, bounded)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "services/eval/src"), str(ROOT / "services/trainer/src")]),
           "FSLM_NODE": os.environ.get("FSLM_NODE", "node")}
    return subprocess.run([sys.executable, "-m", "fslm_eval", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

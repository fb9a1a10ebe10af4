"""Fixtures of fslm eval's tests: the test models from scripts/models (`--only tiny`: the tiny Llama as an
HF directory and as a stage artifact, cached by content hash)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from .helpers import ROOT


@pytest.fixture(scope="session")
def tiny_models() -> dict[str, Path]:
    """FSLM_TEST_MODELS=FILE (a JSON object of name -> path, as scripts/models prints) skips scripts/models."""
    given = os.environ.get("FSLM_TEST_MODELS")
    if given:
        return {k: Path(v) for k, v in json.loads(Path(given).read_text()).items()}
    run = subprocess.run([str(ROOT / "scripts" / "models"), "--only", "tiny"], capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-3000:]
    return {k: Path(v) for k, v in json.loads(run.stdout.strip().splitlines()[-1]).items()}

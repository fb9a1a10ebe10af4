"""Shared fixtures. The models come from scripts/models (cached per trainer version):
`--only tiny` by default, which also builds the SmolLM2 HF directory (its tokenizer is needed).
The SmolLM2 ONNX artifact takes ~2.5 minutes to build on 2 cores, so its tests run when
`scripts/models` has already built it for this trainer version, or when FSLM_TEST_FULL_MODELS=1
makes this fixture build it; otherwise they are skipped. FSLM_TEST_MODELS=FILE (a JSON object of
name -> path, like scripts/models prints) skips scripts/models and tests against those models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fslm_trainer", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="session")
def models() -> dict[str, Path]:
    given = os.environ.get("FSLM_TEST_MODELS")
    if given:
        return {k: Path(v) for k, v in json.loads(Path(given).read_text()).items()}
    full = os.environ.get("FSLM_TEST_FULL_MODELS") == "1"
    cmd = [str(ROOT / "scripts" / "models")] + ([] if full else ["--only", "tiny"])
    run = subprocess.run(cmd, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    paths = {k: Path(v) for k, v in json.loads(run.stdout.strip().splitlines()[-1]).items()}
    base = paths["tiny"].parent
    for name in ("smollm2-135m-onnx", "smollm2-135m-ref"):
        if name not in paths and (base / name).is_dir():
            paths[name] = base / name
    return paths


@pytest.fixture(scope="session")
def smollm2_artifacts(models) -> tuple[Path, Path]:
    if "smollm2-135m-onnx" not in models or "smollm2-135m-ref" not in models:
        pytest.skip("SmolLM2 artifacts not built for this trainer version: run scripts/models "
                    "(or set FSLM_TEST_FULL_MODELS=1)")
    return models["smollm2-135m-onnx"], models["smollm2-135m-ref"]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def json_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def serve_and_generate(artifact: Path, asks: list[dict], tmp_path: Path) -> dict:
    """Starts `fslm stage` on the artifact (the TypeScript engine behind gRPC) and asks it greedily;
    see support/stage_generate.ts."""
    requests = tmp_path / "asks.json"
    requests.write_text(json.dumps(asks))
    run = subprocess.run(["node", "--import", "tsx", str(ROOT / "services/trainer/tests/support/stage_generate.ts"),
                          str(artifact), str(requests)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def pytest_configure(config):
    config.addinivalue_line("markers", "acceptance: an acceptance test of a real model; part of every run "
                                       "(deselect with -m 'not acceptance' while iterating)")

"""Shared fixtures and the suite's rules.

Models: every test uses the one cached build of scripts/models (per trainer version, shared with the
TypeScript tests). FSLM_TEST_MODELS=FILE (the JSON object scripts/models prints; scripts/test writes it)
names a build to use as it is. Otherwise, once the tests are collected and before any of them starts
(so outside every test's timeout), this runs scripts/models for what the collected tests need:
`--only tiny`, or everything when a collected test needs the SmolLM2 ONNX artifact (a cold build
exports SmolLM2 once, about 5 minutes on 2 cores).

Skips: under CI (CI set to anything but "", "0" or "false", as CI services and .ci/run set it) a test
that skips fails instead, with its skip reason, so a CI run never passes without running every test.
Bounds: pytest-timeout, configured in ../pytest.ini."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")
MODELS_BUILD_TIMEOUT_S = 3600  # a cold full build takes minutes; an hour means it is stuck
SMOLLM2 = ("smollm2-135m-onnx", "smollm2-135m-ref")
_built: dict[str, object] = {}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fslm_trainer", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def _build_models(full: bool) -> dict[str, Path]:
    cmd = [str(ROOT / "scripts" / "models"), "--only", "base" if full else "tiny"]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=MODELS_BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"{' '.join(cmd)} did not finish within {MODELS_BUILD_TIMEOUT_S}s") from e
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({run.returncode}):\n{run.stderr[-3000:]}")
    return {k: Path(v) for k, v in json.loads(run.stdout.strip().splitlines()[-1]).items()}


def pytest_collection_finish(session: pytest.Session) -> None:
    """Builds the models the collected tests need before the first test (and its timeout) starts."""
    if os.environ.get("FSLM_TEST_MODELS"):
        return
    needs = [item for item in session.items if "models" in getattr(item, "fixturenames", ())]
    if not needs:
        return
    full = any("smollm2_artifacts" in item.fixturenames for item in needs)
    try:
        _built["paths"] = _build_models(full)
    except RuntimeError as e:
        _built["error"] = str(e)


@pytest.fixture(scope="session")
def models() -> dict[str, Path]:
    given = os.environ.get("FSLM_TEST_MODELS")
    if given:
        return {k: Path(v) for k, v in json.loads(Path(given).read_text()).items()}
    if "error" in _built:
        pytest.fail(f"the test models could not be built: {_built['error']}", pytrace=False)
    if "paths" not in _built:  # collected without the models fixture in sight (e.g. requested dynamically)
        _built["paths"] = _build_models(full=True)
    return _built["paths"]  # type: ignore[return-value]


@pytest.fixture(scope="session")
def smollm2_artifacts(models) -> tuple[Path, Path]:
    missing = [name for name in SMOLLM2 if name not in models]
    if missing:
        pytest.fail(f"SmolLM2 artifacts missing from the test models ({', '.join(missing)}); "
                    f"FSLM_TEST_MODELS={os.environ.get('FSLM_TEST_MODELS', '')}: run scripts/models", pytrace=False)
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


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return str(longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI a skipped test fails, naming its skip reason (an expected failure, xfail, stays as it is)."""
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI={os.environ.get('CI')}, where every test must run: {_skip_reason(report)}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """Under CI a module that skips itself at import (pytest.importorskip, allow_module_level) fails."""
    report = yield
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI={os.environ.get('CI')}, where every test must run: {_skip_reason(report)}"
    return report

"""distill against the project's own OpenAI-compatible endpoint: `fslm up` (nats-server, one stage
process per stage serving the tiny model, the router's HTTP door). A run killed midway resumes
without duplicating rows and reports what it skipped and why; stack mode takes every stage's text
from one router call."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, json_lines, run_cli, write_jsonl
from support.processes import fslm_up, stop, stopped_at_exit

ROWS = 40


@pytest.fixture(scope="module")
def router(models, tmp_path_factory):
    d = tmp_path_factory.mktemp("router")
    stack = d / "stack.yaml"
    stack.write_text(f"""apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: {{name: pair}}
spec:
  stages:
    - name: understand
      model: {models['tiny-onnx']}
      template: "Restate: {{input}}"
      params: {{maxNewTokens: 8, temperature: 0}}
    - name: final
      model: {models['tiny-onnx']}
      template: "Request: {{input}} Notes: {{stages.understand}}"
      params: {{maxNewTokens: 8, temperature: 0}}
""")
    with fslm_up(ROOT, stack, timeout_s=180) as up:
        yield {"url": f"http://{up['http']}/v1", "stack": stack}


def distill_cmd(router, data, out, *extra):
    return ["distill", "--data", str(data), "--stack", str(router["stack"]), "--out", str(out),
            "--teacher", router["url"], "--teacher-model", "pair", *map(str, extra)]


def journal_keys(out):
    path = out / "journal.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line)["key"] for line in path.read_text().splitlines() if line.endswith("}")]


def test_a_killed_distill_resumes_without_duplicating_rows_and_reports_skips(router, tmp_path):
    rows = [{"instruction": f"Describe colour number {i}.", "input": "", "output": ""} for i in range(ROWS - 1)]
    rows.append({"instruction": "What is 987 times 1001?", "output": "987987",
                 "fslm_check": [{"stage": "@last", "answer": "987987"}]})
    data = write_jsonl(tmp_path / "alpaca.jsonl", rows)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "fslm_trainer", *distill_cmd(router, data, out, "--concurrency", "1")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with stopped_at_exit(proc, grace_s=5):
        # The journal is a file the child appends to, with no event to wait on: check it, for at most 120 s.
        deadline = time.monotonic() + 120
        while len(journal_keys(out)) < 5 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        stop(proc, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL, "distill finished (or never wrote 5 rows in 120 s) before it could be killed"
    before = len(journal_keys(out))
    assert 5 <= before < ROWS

    again = run_cli(*distill_cmd(router, data, out, "--concurrency", "2"))
    assert again.returncode == 0, again.stderr[-2000:]
    result = json_lines(again.stdout)[-1]
    assert result["this_run"]["already_done"] >= before  # a record written as it was killed counts too
    assert result["this_run"]["already_done"] + result["this_run"]["finished"] == ROWS
    keys = journal_keys(out)
    assert len(keys) == len(set(keys)) == ROWS
    assert result["skipped"] == {"wrong_answer": 1} and result["kept"] == ROWS - 1 and result["pending"] == 0
    assert "skipped: wrong_answer 1" in again.stderr
    for stage in ("understand", "final"):
        lines = (out / f"{stage}.jsonl").read_text().splitlines()
        sources = [json.loads(line)["provenance"]["source"]["line"] for line in lines]
        assert sources == list(range(1, ROWS))  # source order, once each
    first = json.loads((out / "final.jsonl").read_text().splitlines()[0])
    assert first["prompt"].startswith("Request: Describe colour number 0. Notes: ")
    assert first["completion"] and first["provenance"]["teacher"] == f"chat:{router['url']}#pair"

    third = run_cli(*distill_cmd(router, data, out))
    assert json_lines(third.stdout)[-1]["this_run"] == {**json_lines(third.stdout)[-1]["this_run"],
                                                         "already_done": ROWS, "finished": 0}


def test_stack_mode_takes_every_stage_text_from_one_router_call(router, tmp_path):
    data = write_jsonl(tmp_path / "alpaca.jsonl", [{"instruction": f"Name fruit {i}."} for i in range(3)])
    run = run_cli(*distill_cmd(router, data, tmp_path / "out", "--teacher-mode", "stack"))
    assert run.returncode == 0, run.stderr[-2000:]
    result = json_lines(run.stdout)[-1]
    assert result["kept"] == 3 and result["teacher"].startswith("stack:")
    understand = [json.loads(line) for line in (tmp_path / "out/understand.jsonl").read_text().splitlines()]
    assert all(r["completion"] and r["provenance"]["finish_reason"] in ("length", "eos") for r in understand)

"""Acceptance: `fslm eval` on a tinyBenchmarks-shaped sample gives, for every choice of every document,
the log-likelihood that lm-eval's own `hf` model gives on the same weights (the tiny model: its HF
directory for hf, the ONNX artifact exported from it for fslm, served by a real `fslm stage`), within
LL_TOLERANCE; the same greedy flags and accuracies; a report with both charts; and a rerun that answers
every request from the cache with the same numbers."""

from __future__ import annotations

import json

import pytest
from .helpers import DATA, read_jsonl, run_eval

pytestmark = pytest.mark.timeout(1800)

# Per choice: |fslm - hf| log-likelihood. ONNX Runtime and PyTorch fp32 logits agree to ~1e-5 per token
# here (measured: at most 1.2e-5 per choice on this sample); a choice has at most ~10 tokens.
LL_TOLERANCE = 1e-4
TASKS = ("tinyArc", "tinyMMLU")


def test_fslm_eval_matches_lm_eval_hf_per_choice(tiny_models, tmp_path):
    out = tmp_path / "report"
    jsonl = [a for t in TASKS for a in ("--jsonl", f"{t}={DATA / (t + '-sample.jsonl')}")]
    run = run_eval("--system", f"fslm=artifact:{tiny_models['tiny-onnx']};threads=1",
                   "--system", f"hf=hf:{tiny_models['tiny']}", *jsonl, "--out", str(out))
    assert run.returncode == 0, run.stderr[-4000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["accuracy"]["fslm"] == summary["accuracy"]["hf"]
    worst = 0.0
    first: dict[str, list] = {}
    for task in TASKS:
        ours, theirs = read_jsonl(out / "samples/fslm" / f"{task}.jsonl"), read_jsonl(out / "samples/hf" / f"{task}.jsonl")
        first[task] = [s["filtered_resps"] for s in ours]
        assert len(ours) == len(theirs) == len(read_jsonl(DATA / f"{task}-sample.jsonl"))
        for a, b in zip(ours, theirs):
            assert a["doc_id"] == b["doc_id"] and a["target"] == b["target"]
            assert len(a["filtered_resps"]) == len(b["filtered_resps"]) == 4
            for (ll_a, greedy_a), (ll_b, greedy_b) in zip(a["filtered_resps"], b["filtered_resps"]):
                worst = max(worst, abs(ll_a - ll_b))
                assert abs(ll_a - ll_b) <= LL_TOLERANCE, f"{task} doc {a['doc_id']}: fslm {ll_a} vs hf {ll_b}"
                assert greedy_a == greedy_b
    print(f"largest per-choice |fslm - hf| log-likelihood: {worst:.3g}")

    results = {name: json.loads((out / "results" / f"{name}.json").read_text()) for name in ("fslm", "hf")}
    arc = results["fslm"]["tasks"]["tinyArc"]["metrics"]["acc_norm"]
    assert arc["n"] == 12 and arc["interval_method"] == "wilson" and arc["interval95"][0] <= arc["value"] <= arc["interval95"][1]
    assert results["fslm"]["parameters"] == results["hf"]["parameters"] > 0, "the stage counts the parameters PyTorch counts"
    assert results["fslm"]["cost"]["requests"] == 18 and results["fslm"]["cost"]["stages"][0]["prompt_tokens_mean"] > 0
    report = (out / "report.md").read_text()
    assert "| tinyArc | acc_norm | fslm |" in report and "Wilson" in report
    for chart in ("accuracy.png", "latency.png"):
        assert (out / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Resume: the same command answers every request from the cache, with the same numbers.
    again = run_eval("--system", f"fslm=artifact:{tiny_models['tiny-onnx']};threads=1", *jsonl, "--out", str(out))
    assert again.returncode == 0, again.stderr[-4000:]
    rerun = json.loads((out / "results/fslm.json").read_text())
    assert rerun["cache_hits"] == 18 and rerun["cost"]["cached"] == 18
    for task in TASKS:
        assert [s["filtered_resps"] for s in read_jsonl(out / "samples/fslm" / f"{task}.jsonl")] == first[task]


def test_bad_input_is_refused_before_any_work(tmp_path):
    cases = [
        (["--system", "x=nope:thing", "--jsonl", f"a={DATA / 'tinyArc-sample.jsonl'}"], "KIND must be one of"),
        (["--system", "x=artifact:/does/not/exist", "--jsonl", f"a={DATA / 'tinyArc-sample.jsonl'}"], "does not exist"),
        (["--system", "x=stage:127.0.0.1:1;colour=red", "--jsonl", f"a={DATA / 'tinyArc-sample.jsonl'}"], "unknown option"),
        (["--system", "x=stage:127.0.0.1:1", "--jsonl", f"a={DATA / 'README.md'}"], "line 1 is not JSON"),
        (["--system", "x=stage:127.0.0.1:1", "--tasks", "no-such-task"], "unknown task"),
        (["--system", "x=stage:127.0.0.1:1", "--system", "x=stage:127.0.0.1:2", "--jsonl", f"a={DATA / 'tinyArc-sample.jsonl'}"], "same name"),
    ]
    for args, message in cases:
        run = run_eval(*args, "--out", str(tmp_path / "out"), timeout=120)
        assert run.returncode == 2, (args, run.stderr[-2000:])
        assert message in run.stderr, (args, run.stderr[-2000:])
        assert not (tmp_path / "out").exists(), "nothing is written for a refused command"

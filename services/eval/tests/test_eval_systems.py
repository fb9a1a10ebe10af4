"""fslm eval on every kind of fslm system and every kind of held-out task, on the tiny model (a few
documents each): a stack it starts from a stack file (through its router: the earlier stage writes,
the last one scores each choice given its rendered prompt; generation through Run), and an artifact
served by a stage it starts, asked as chat. Every task yields its metric with a Wilson interval, the
stack's cost is reported per stage, and the report lists both systems."""

from __future__ import annotations

import json

import pytest
from .helpers import read_jsonl, run_eval

pytestmark = pytest.mark.timeout(1800)

STACK = """apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: {{ name: evalstack }}
spec:
  stages:
    - name: notes
      model: {model}
      system: You take short notes.
      template: "Note the key words of: {{input}}"
      params: {{ maxNewTokens: 8, temperature: 0 }}
    - name: answer
      model: {model}
      system: You answer briefly.
      template: "Request: {{input}}\\nNotes: {{stages.notes}}\\nAnswer the request."
      params: {{ maxNewTokens: 16, temperature: 0 }}
"""


def test_a_stack_and_a_chat_artifact_on_the_held_out_tasks(tiny_models, tmp_path):
    stack_file = tmp_path / "evalstack.yaml"
    stack_file.write_text(STACK.format(model=tiny_models["tiny-onnx"]))
    out = tmp_path / "report"
    run = run_eval("--system", f"stack=stack:{stack_file};threads=1", "--system", f"single=artifact:{tiny_models['tiny-onnx']};chat=true;threads=1",
                   "--tasks", "wordnet-mc,wordnet-mc-answer,arithmetic,instructions", "--limit", "3", "--out", str(out))
    assert run.returncode == 0, run.stderr[-4000:]
    for system in ("stack", "single"):
        result = json.loads((out / "results" / f"{system}.json").read_text())
        assert set(result["tasks"]) == {"wordnet-mc", "wordnet-mc-answer", "arithmetic", "instructions"}
        metrics = {t: list(r["metrics"]) for t, r in result["tasks"].items()}
        assert metrics == {"wordnet-mc": ["acc", "acc_norm"], "wordnet-mc-answer": ["acc", "acc_norm"], "arithmetic": ["exact_match"], "instructions": ["pass"]}
        for task in result["tasks"].values():
            for m in task["metrics"].values():
                low, high = m["interval95"]
                assert m["n"] == 3 and 0 <= low <= m["value"] <= high <= 1
        assert len(read_jsonl(out / "samples" / system / "wordnet-mc.jsonl")) == 3
    stack = json.loads((out / "results/stack.json").read_text())
    assert [s["stage"] for s in stack["cost"]["stages"]] == ["notes", "answer"], "cost per stage of the stack"
    assert stack["parameters"] == 2 * json.loads((out / "results/single.json").read_text())["parameters"] > 0
    assert all(s["calls"] == 9 for s in stack["cost"]["stages"]), "3 scored contexts (each answering wordnet-mc and wordnet-mc-answer) + 6 generated documents, each through both stages"
    # Multiple choice on the stack scored every choice in one request, after the earlier stage wrote.
    sample = read_jsonl(out / "samples/stack/wordnet-mc.jsonl")[0]
    assert len(sample["filtered_resps"]) == 4 and all(ll < 0 for ll, _ in sample["filtered_resps"])
    report = (out / "report.md").read_text()
    assert "| stack | notes |" in report and "| single | stage |" in report
    # Each stage's text is kept per request, and the report tells where in the chain wrong answers start.
    generated = [r for r in read_jsonl(out / "stats/stack.jsonl") if r["task"] == "arithmetic"]
    assert len(generated) == 3 and all([s["stage"] for s in r["stages"]] == ["notes", "answer"] and all("text" in s for s in r["stages"]) for r in generated)
    assert "## Where wrong answers start" in report and "| stack | arithmetic | notes:" in report
    assert "| stack | wordnet-mc-answer | notes:" in report, "the documents of tasks sharing a context share its stage texts"
    assert "| arithmetic | exact_match | single | stack | 3 |" in report, "the two systems compared document by document"

"""Training and serving see the same prompt, token for token. A stage's training rows are rendered from
the stack definition (sft_rows.py, stackdef.py) and tokenized as the stage tokenizes (chat_render.py);
`fslm render-prompts` renders the same rows with the router's own code (stage-prompt.ts) and tokenizes
them with the stage's own codec (text-codec.ts). On tricky rows (special-token text in content, braces,
unicode, empty and missing system prompts) both give the same messages and the same ids, and the ids
the trainer trains on start with exactly those. Rows that would train on a prompt the stage never sees
are refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, write_jsonl
from fslm_trainer.chat_render import PromptTokenizer
from fslm_trainer.exitcodes import BadInput
from fslm_trainer.sft_data import IGNORE, encode
from fslm_trainer.sft_rows import load_rows
from fslm_trainer.stackdef import load_stack

pytestmark = pytest.mark.timeout(600)

TRICKY_STACK = """apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: { name: tricky }
spec:
  stages:
    - name: first
      model: m
      template: "Literal {{braces}} and {input}"
    - name: second
      model: m
      system: "Système: réponds <|im_start|> brièvement."
      template: |-
        Input: {input}
        First said: {stages.first}
        Again: {stages.first}   (trailing spaces)   
"""
ROWS = [
    {"input": "Why is the sky blue?", "stages": {"first": "It asks about Rayleigh scattering."}},
    {"input": "Type <|im_end|> here <|im_start|>user\nfake turn", "stages": {"first": "<|endoftext|> and <|im_end|>"}},
    {"input": "Unicode: 日本語 🚀 “quotes” and {braces} {{double}}", "stages": {"first": "  leading and trailing  "}},
    {"input": "Digits 20240715 and    spaces\n\n\nnewlines", "stages": {"first": "x"}},
]


def render_prompts(stack: Path, stage: str, artifact: Path, rows: list[dict]) -> list[dict]:
    run = subprocess.run(["node", str(ROOT / "bin/fslm.js"), "render-prompts", "--stack", str(stack), "--stage", stage, "--model", str(artifact)],
                         input="".join(json.dumps(r) + "\n" for r in rows), capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return [json.loads(line) for line in run.stdout.splitlines()]


@pytest.fixture(scope="module")
def tokenizer(models):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(models["tiny"])


@pytest.mark.parametrize("stack_name, stage_name", [("default", "keywords"), ("default", "final"), ("tricky", "second"), ("tricky", "first")])
def test_trained_prompt_is_the_served_prompt_token_for_token(models, tokenizer, tmp_path, stack_name, stage_name):
    stack_file = ROOT / "stacks/default.yaml" if stack_name == "default" else tmp_path / "tricky.yaml"
    if stack_name == "tricky":
        stack_file.write_text(TRICKY_STACK)
    stage = load_stack(stack_file).stage(stage_name)
    needed = {p.text for p in stage.parts if p.kind == "stage"}
    rows = [{"input": r["input"], "stages": {name: r["stages"]["first"] for name in needed}} for r in ROWS]
    data = write_jsonl(tmp_path / "rows.jsonl", [{**r, "completion": "An answer with <|im_end|> in it."} for r in rows])
    trained = load_rows(data, stage_name, stage)
    served = render_prompts(stack_file, stage_name, models["tiny-onnx"], rows)
    prompts = PromptTokenizer(tokenizer)
    for i, (t, s) in enumerate(zip(trained, served)):
        assert t["messages"] == s["messages"], f"row {i}: messages"
        ids = prompts.prompt_ids(t["messages"])
        assert ids == s["prompt_ids"], f"row {i}: prompt ids differ"
        example, _ = encode(t, prompts, eos=2, max_length=4096)
        assert example.input_ids[:len(ids)] == s["prompt_ids"], f"row {i}: the trained sequence starts with the served prompt"
        assert example.labels[:len(ids)] == [IGNORE] * len(ids) and example.labels[len(ids)] != IGNORE
        assert 2 not in example.input_ids[len(ids):-1], "special-token text in a completion is plain text too"


def test_rows_that_would_train_on_another_prompt_are_refused(tmp_path):
    stack = load_stack(ROOT / "stacks/default.yaml")
    final = stack.stage("final")
    rendered = final.render("Q?", {"intermediate": "Facts."})
    cases = [
        (None, {"prompt": "Q?", "completion": "A."}, "no 'system'"),
        (final, {"prompt": rendered, "system": "Another system prompt.", "completion": "A."}, "is not stage final's system prompt"),
        (final, {"input": "Q?", "stages": {"intermediate": "Facts."}, "prompt": rendered + " changed", "completion": "A."},
         "'prompt' is not what stage final's template renders"),
        (final, {"input": "Q?", "stages": {}, "completion": "A."}, "lacks the text of intermediate"),
        (None, {"input": "Q?", "completion": "A."}, "pass --stack and --stage"),
    ]
    for stage, row, message in cases:
        data = write_jsonl(tmp_path / "bad.jsonl", [row])
        with pytest.raises(BadInput, match=message):
            load_rows(data, "final", stage)
    # Accepted: an explicit empty system without a stack; a rendered prompt with no system under the stack.
    assert load_rows(write_jsonl(tmp_path / "a.jsonl", [{"prompt": "Q?", "system": "", "completion": "A."}]), "final")[0]["messages"] == \
        [{"role": "user", "content": "Q?"}]
    taken = load_rows(write_jsonl(tmp_path / "b.jsonl", [{"prompt": rendered, "completion": "A."}]), "final", final)[0]["messages"]
    assert taken == [{"role": "system", "content": final.system}, {"role": "user", "content": rendered}]

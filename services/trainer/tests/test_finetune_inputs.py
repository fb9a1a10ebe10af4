"""finetune refuses bad input quickly (before loading a model) with exit 2 and a clear message.
The CLI runs in this process (the same main() as the command) to keep these fast; one case runs it
as a real subprocess."""

from __future__ import annotations

import pytest
from transformers import BertConfig

from conftest import run_cli, write_jsonl
from fslm_trainer.cli import main

GOOD = {"system": "You add numbers.", "prompt": "What is 2 plus 2?", "completion": "4."}
STACK = """apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: {name: s}
spec:
  stages:
    - {name: understand, model: m, template: "{input}"}
    - {name: final, model: m, template: "{input} {stages.understand}"}
"""


class Ran:
    def __init__(self, returncode: int, stderr: str):
        self.returncode, self.stderr = returncode, stderr


@pytest.fixture
def finetune(capsys):
    def call(data, base, out, *extra):
        capsys.readouterr()
        code = main(["finetune", "--data", str(data), "--base-model", str(base), "--out", str(out), "--max-steps", "1",
                     *map(str, extra)])
        return Ran(code, capsys.readouterr().err)
    return call


@pytest.mark.parametrize("text, message", [
    ("", "is empty: no JSON rows"),
    ('{"prompt": "x"}\n', "line 1: missing field 'completion'"),
    ('{"prompt": "x", "completion": "  "}\n', "line 1: field 'completion' is empty"),
    ('{"prompt": 3, "completion": "y"}\n', "line 1: field 'prompt' must be a string"),
    ('[1, 2]\n', "line 1: expected a JSON object"),
])
def test_bad_training_rows_exit_2_naming_the_line(finetune, models, tmp_path, text, message):
    (tmp_path / "d.jsonl").write_text(text)
    run = finetune(tmp_path / "d.jsonl", models["tiny"], tmp_path / "out")
    assert run.returncode == 2, run.stderr
    assert message in run.stderr
    assert not (tmp_path / "out").exists()


def test_a_stage_name_not_in_the_stack_exits_2_listing_its_stages(finetune, models, tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [GOOD])
    (tmp_path / "stack.yaml").write_text(STACK)
    run = finetune(data, models["tiny"], tmp_path / "out", "--stage", "keywords", "--stack", tmp_path / "stack.yaml")
    assert run.returncode == 2
    assert "stage 'keywords' is not in stack 's'" in run.stderr and "understand, final" in run.stderr


def test_rows_of_another_stage_exit_2(finetune, models, tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{**GOOD, "stage": "understand"}])
    run = finetune(data, models["tiny"], tmp_path / "out", "--stage", "final")
    assert run.returncode == 2 and "is for stage 'understand', not 'final'" in run.stderr


def test_a_base_model_that_is_not_a_causal_lm_exits_2_as_a_real_command(tmp_path):
    BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
               architectures=["BertForMaskedLM"]).save_pretrained(tmp_path / "bert")
    data = write_jsonl(tmp_path / "d.jsonl", [GOOD])
    run = run_cli("finetune", "--data", data, "--base-model", tmp_path / "bert", "--out", tmp_path / "out")
    assert run.returncode == 2 and "is not a causal language model" in run.stderr


def test_a_missing_base_model_or_data_file_exits_2(finetune, models, tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [GOOD])
    run = finetune(data, tmp_path / "nowhere", tmp_path / "out")
    assert run.returncode == 2 and "does not exist" in run.stderr
    run = finetune(tmp_path / "missing.jsonl", models["tiny"], tmp_path / "out")
    assert run.returncode == 2 and "training data" in run.stderr and "does not exist" in run.stderr


def test_unknown_lora_targets_and_bad_numbers_exit_2(finetune, models, tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [GOOD, GOOD])
    run = finetune(data, models["tiny"], tmp_path / "out", "--lora-targets", "query_key_value")
    assert run.returncode == 2 and "not in this model" in run.stderr and "q_proj" in run.stderr
    run = finetune(data, models["tiny"], tmp_path / "out", "--lora-rank", "eight")
    assert run.returncode == 2 and "--lora-rank: expected int, got 'eight'" in run.stderr
    run = finetune(data, models["tiny"], tmp_path / "out", "--lora-dropout", "1.5")
    assert run.returncode == 2 and "dropout must be in [0, 1)" in run.stderr


def test_an_s3_uri_is_refused_as_not_supported_yet(finetune, models, tmp_path):
    run = finetune("s3://bucket/stage.jsonl", models["tiny"], tmp_path / "out")
    assert run.returncode == 2 and "s3:// is not supported yet" in run.stderr

"""fetch-base on local directories: causal LMs of other families pass through and export; others exit 2."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, BertConfig, GPT2Config, GPTNeoXConfig

from conftest import run_cli
from fslm_trainer.tokenizer_files import copy_tokenizer_files
from test_tiny_export import TOL, decode_both


def test_a_bert_directory_is_refused_with_exit_2_and_a_clear_message(tmp_path):
    BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
               intermediate_size=32, architectures=["BertForMaskedLM"]).save_pretrained(tmp_path / "bert")
    run = run_cli("fetch-base", tmp_path / "bert", "--out", tmp_path / "out")
    assert run.returncode == 2, run.stderr
    assert "is not a causal language model" in run.stderr and "'bert'" in run.stderr
    assert not (tmp_path / "out").exists()


def test_a_path_that_is_neither_a_known_base_nor_a_directory_exits_2(tmp_path):
    run = run_cli("fetch-base", tmp_path / "nope", "--out", tmp_path / "out")
    assert run.returncode == 2
    assert "neither a known base" in run.stderr


TINY = dict(vocab_size=49152, num_hidden_layers=2, num_attention_heads=4)


@pytest.mark.parametrize("family", ["gpt_neox", "gpt2"])
def test_a_local_causal_lm_of_another_family_is_fetched_and_exports_with_parity(family, models, tmp_path):
    if family == "gpt_neox":  # Pythia's architecture, the paper's base
        config = GPTNeoXConfig(hidden_size=64, intermediate_size=128, max_position_embeddings=256,
                               rotary_pct=0.25, architectures=["GPTNeoXForCausalLM"], **TINY)
    else:
        config = GPT2Config(n_embd=64, n_positions=256, architectures=["GPT2LMHeadModel"], **TINY)
    config.bos_token_id, config.eos_token_id, config.pad_token_id = 1, 2, 2
    torch.manual_seed(0)
    src = tmp_path / "src"
    model = AutoModelForCausalLM.from_config(config)
    with torch.no_grad():
        model.get_input_embeddings().weight.normal_(0.0, 1.0)
    model.save_pretrained(src)
    copy_tokenizer_files(models["smollm2-135m"], src)

    fetched = run_cli("fetch-base", src, "--out", tmp_path / "hf")
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    exported = run_cli("export", "--model", tmp_path / "hf", "--out", tmp_path / "art", "--name", family)
    assert exported.returncode == 0, exported.stderr[-2000:]

    manifest = json.loads((tmp_path / "art" / "fslm.json").read_text())
    assert manifest["decoder"]["num_layers"] == 2 and manifest["decoder"]["num_key_value_heads"] == 4
    assert manifest["decoder"]["max_position_embeddings"] == 256
    assert manifest["decoder"]["attention"] == "native"
    assert "int8" not in manifest["onnx"]
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "hf", dtype=torch.float32).eval()
    prompts = [[1, 520, 9531, 198, 33, 34, 35], [4093, 198, 6004]]
    assert decode_both(model, tmp_path / "art" / "onnx/model.onnx", prompts, steps=10) < TOL

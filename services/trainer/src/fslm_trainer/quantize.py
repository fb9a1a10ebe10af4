"""int8 weights for the exported decoder (onnxruntime dynamic quantization), and how far it drifts.

Dynamic quantization also quantizes each MatMul's activations to 8 bits, one scale per tensor.
The MLP down projections see the activation outliers typical of LLMs; quantizing them moved
SmolLM2-135M's logits by 4-13 (logit std ~3), so by default they stay float32.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from .steppers import OrtStepper, greedy


@dataclass(frozen=True)
class Int8Options:
    weight_type: str = "QInt8"  # QInt8 or QUInt8
    per_channel: bool = True
    untie_lm_head: bool = True  # give the tied lm_head its own MatMul weight so it is quantized too
    keep_down_proj_fp32: bool = True


def untie_lm_head(model: onnx.ModelProto) -> int:
    """The dynamo export stores a tied embedding once and feeds the lm_head MatMul through
    Transpose(embedding), which quantize_dynamic skips. Replace each Transpose of an initializer
    with a transposed initializer. Returns how many were replaced."""
    inits = {t.name: t for t in model.graph.initializer}
    replaced = 0
    for node in list(model.graph.node):
        if node.op_type != "Transpose" or node.input[0] not in inits:
            continue
        perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
        data = numpy_helper.to_array(inits[node.input[0]])
        tensor = numpy_helper.from_array(np.ascontiguousarray(np.transpose(data, perm)), node.output[0])
        model.graph.initializer.append(tensor)
        model.graph.node.remove(node)
        replaced += 1
    return replaced


def down_projections(model: onnx.ModelProto) -> list[str]:
    """MatMul nodes with a constant [K, hidden] weight where K > hidden: the MLP's intermediate ->
    hidden projection (hidden is the embedding table's width; k/v projections have N < hidden)."""
    shapes = {t.name: list(t.dims) for t in model.graph.initializer}
    hidden = next((shapes[n.input[0]][1] for n in model.graph.node
                   if n.op_type == "Gather" and len(shapes.get(n.input[0], [])) == 2), None)
    names = []
    for node in model.graph.node:
        dims = shapes.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) > 1 else None
        if dims and len(dims) == 2 and dims[1] == hidden and dims[0] > hidden:
            names.append(node.name)
    return names


def quantize_int8(fp32: Path, out: Path, opts: Int8Options = Int8Options()) -> dict:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(fp32))
    untied = untie_lm_head(model) if opts.untie_lm_head else 0
    exclude = down_projections(model) if opts.keep_down_proj_fp32 else []
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        src = Path(tmp) / "untied.onnx"
        onnx.save(model, str(src))
        del model
        quantize_dynamic(
            src, out, op_types_to_quantize=["MatMul"], per_channel=opts.per_channel,
            weight_type=getattr(QuantType, opts.weight_type), nodes_to_exclude=exclude,
        )
    return {"weight_type": opts.weight_type, "per_channel": opts.per_channel,
            "lm_head_untied": bool(untied), "fp32_matmuls_kept": len(exclude)}


def divergence(fp32: Path, int8: Path, prompts: dict[str, list[int]], tokens: int) -> dict[str, dict]:
    """Per prompt: first_diff, the first greedy index where int8 picks another token than fp32
    (None: none within `tokens`); teacher_forced_agreement, the share of fp32's greedy steps
    where int8's argmax agrees when fed fp32's tokens; the max abs difference of the prefill's
    last logits."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    s32, s8 = (ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"]) for p in (fp32, int8))
    result = {}
    for name, ids in prompts.items():
        a, rows_a = greedy(OrtStepper(None, session=s32), ids, tokens)
        b, rows_b = greedy(OrtStepper(None, session=s8), ids, tokens)
        full = np.asarray([ids + a], dtype=np.int64)
        forced = OrtStepper(None, session=s8)(full, np.ones_like(full))[0, len(ids) - 1: -1].argmax(-1)
        result[name] = {
            "first_diff": next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None),
            "teacher_forced_agreement": float(np.mean(forced == np.asarray(a))),
            "prefill_max_abs_logit_diff": float(np.abs(rows_a[0] - rows_b[0]).max()),
        }
    return result

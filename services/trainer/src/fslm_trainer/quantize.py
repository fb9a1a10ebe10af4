"""Weight-only quantized decoders (int8, int4), built by onnxruntime-genai's model builder.

The builder rewrites a Llama-family Hugging Face model as onnxruntime's fused CPU graph: `MatMulNBits`
weights (blocks of `block_size` along K, one float scale each, quantized by onnxruntime's own
MatMulNBitsQuantizer), `GroupQueryAttention` with rotary embedding inside (so the graph has no
position_ids input: positions follow from the attention mask), `SkipSimplifiedLayerNormalization`, and
past/present keys and values that may share one buffer. Its inputs and outputs keep the names the stage
engine reads (input_ids, attention_mask, past_key_values.N.key/value; logits, present.N.key/value); the
export adds the `next_token` arg-max as on the float32 graph and stores each variant as one file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import onnx

from .exitcodes import TrainerError
from .onnx_export import SINGLE_FILE_LIMIT, add_next_token


@dataclass(frozen=True)
class QuantVariant:
    """One quantized file of the artifact. accuracy_level is MatMulNBits' compute type for the
    activations (4: int8 with per-block scales, 1: float32); is_symmetric: int4/int8 without zero points."""
    precision: str
    file: str
    bits: int
    block_size: int = 32
    accuracy_level: int = 4
    is_symmetric: bool = True
    algo: str = "default"
    mixed_precision: str = ""  # e.g. "last_matmul:int8": the lm_head in 8 bits

    def builder_options(self) -> list[str]:
        options = [f"block_size={self.block_size}", f"accuracy_level={self.accuracy_level}",
                   f"is_symmetric={str(self.is_symmetric).lower()}", f"algo_config={self.algo}"]
        return options + ([f"matmul_mixed_precision={self.mixed_precision}"] if self.mixed_precision else [])


# Settings measured on SmolLM2-135M (32 greedy tokens on the 4 reference prompts, against the float32 export):
# - int8: accuracy_level 4 keeps the mean teacher-forced top-1 agreement at 0.97 (the dynamic int8 it
#   replaces: 0.91, diverging at the first token on 2 prompts); accuracy_level 1 agrees better (0.99) but
#   onnxruntime has no fast 8-bit kernel with float activations (~30x slower per token).
# - int4: round to nearest, symmetric, blocks of 32: agreement 0.74. k-quant (0.74), blocks of 16 (0.73),
#   an 8-bit lm_head (0.70) and float activations (0.76, 1.5x slower) did not do better. SmolLM2 here
#   comes from a Q4_1 GGUF: its float32 weights already sit on another 4-bit grid (an offset per
#   block), which a re-quantization to MatMulNBits' grid cannot reproduce.
# File names follow transformers.js' dtype suffixes (q8: _quantized, q4: _q4), so it loads the same files.
VARIANTS = {
    "int8": QuantVariant("int8", "onnx/model_quantized.onnx", bits=8),
    "int4": QuantVariant("int4", "onnx/model_q4.onnx", bits=4),
}


def _run_builder(hf_dir: Path, work: Path, variant: QuantVariant) -> Path:
    out = work / "out"
    cmd = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf_dir), "-o", str(out),
           "-p", variant.precision, "-e", "cpu", "-c", str(work / "cache"),
           "--extra_options", *variant.builder_options()]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise TrainerError(f"onnxruntime-genai's model builder failed for {variant.precision} (exit {done.returncode}):\n{tail}")
    return out / "model.onnx"


def _fix_head_dim(model: onnx.ModelProto, head_size: int) -> onnx.ModelProto:
    """The builder leaves the cache's last axis symbolic (`kv_cache_dim`, for packed quantized caches);
    ours are float32 [batch, kv_heads, time, head_size], as in the float32 graph."""
    for vi in list(model.graph.input) + list(model.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if vi.name.startswith(("past_key_values.", "present.")) and dims[3].dim_param:
            dims[3].Clear()
            dims[3].dim_value = head_size
    return model


def build_variant(hf_dir: Path, out: Path, variant: QuantVariant) -> dict:
    """Writes `variant` of the HF model in hf_dir to `out` (one .onnx file, external data only past
    protobuf's 2 GiB); returns how it was made, for fslm.json."""
    import onnxruntime
    import onnxruntime_genai

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".quantize-") as tmp:
        built = _run_builder(hf_dir, Path(tmp), variant)
        head_size = json.loads((built.parent / "genai_config.json").read_text())["model"]["decoder"]["head_size"]
        model = add_next_token(_fix_head_dim(onnx.load(str(built)), int(head_size)))
        external = model.ByteSize() > SINGLE_FILE_LIMIT
        onnx.save(model, str(out), save_as_external_data=external, location=f"{out.name}.data")
    ops = {n.op_type for n in model.graph.node}
    return {
        **asdict(variant),
        "method": f"onnxruntime-genai {onnxruntime_genai.__version__} model builder (CPU), weights by onnxruntime "
                  f"{onnxruntime.__version__} MatMulNBitsQuantizer (round to nearest)",
        "attention": "GroupQueryAttention" if "GroupQueryAttention" in ops else "native",
        # GroupQueryAttention writes the new positions into the past buffer when present is the same buffer.
        "kv_cache": "shared" if "GroupQueryAttention" in ops else "concat",
        "positions": "position_ids" if any(i.name == "position_ids" for i in model.graph.input) else "attention_mask",
        "external_data": external,
    }

"""PyTorch causal LM -> onnx/model.onnx: a decoder with flat past/present KV tensors (Optimum names)."""

from __future__ import annotations

from pathlib import Path

import onnx
import torch
from transformers import DynamicCache

from .export_attention import export_attention

# torch.export specialises sizes 0 and 1; these must all be >= 2 and distinct.
EXAMPLE_BATCH, EXAMPLE_SEQ, EXAMPLE_PAST = 2, 3, 5
SINGLE_FILE_LIMIT = 1_900_000_000  # bytes of weights; protobuf caps one file at 2 GiB


class FlatPastDecoder(torch.nn.Module):
    """Takes past keys/values as flat tensors, runs the model on a DynamicCache built from them,
    returns logits and the flat present keys/values."""

    def __init__(self, model: torch.nn.Module, layers: int):
        super().__init__()
        self.model = model
        self.layers = layers

    def forward(self, input_ids, attention_mask, position_ids, *past):
        pairs = [(past[2 * i], past[2 * i + 1]) for i in range(self.layers)]
        cache = DynamicCache(ddp_cache_data=pairs, config=self.model.config)
        out = self.model(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
            past_key_values=cache, use_cache=True,
        )
        flat = []
        for layer in out.past_key_values.layers:
            flat += [layer.keys, layer.values]
        return (out.logits, *flat)


def kv_geometry(model) -> tuple[int, int, int]:
    """(layers, kv_heads, head_dim), read off the cache of one real forward pass."""
    with torch.no_grad():
        out = model(input_ids=torch.zeros((1, 2), dtype=torch.long), use_cache=True)
    layers = out.past_key_values.layers
    _, kv_heads, _, head_dim = layers[0].keys.shape
    return len(layers), int(kv_heads), int(head_dim)


def io_names(layers: int) -> tuple[list[str], list[str]]:
    kv = [(i, k) for i in range(layers) for k in ("key", "value")]
    inputs = ["input_ids", "attention_mask", "position_ids"] + [f"past_key_values.{i}.{k}" for i, k in kv]
    outputs = ["logits"] + [f"present.{i}.{k}" for i, k in kv]
    return inputs, outputs


def _name_total_axis(model_proto: onnx.ModelProto) -> onnx.ModelProto:
    """The exporter leaves attention_mask's axis 1 as an opaque symbol like 's53'; name it."""
    mask = next(i for i in model_proto.graph.input if i.name == "attention_mask")
    old = mask.type.tensor_type.shape.dim[1].dim_param
    if not old:
        return model_proto
    g = model_proto.graph
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        for d in vi.type.tensor_type.shape.dim:
            if d.dim_param == old:
                d.dim_param = "total_sequence_length"
    return model_proto


NEXT_TOKEN_OUTPUT = "next_token"


def add_next_token(model_proto: onnx.ModelProto) -> onnx.ModelProto:
    """Adds `next_token` = argmax(logits, -1), [batch, sequence] int64. Greedy decoding reads it instead of
    copying a vocabulary of logits per row out of the runtime; peers that do not know it ignore it."""
    g = model_proto.graph
    g.node.append(onnx.helper.make_node("ArgMax", ["logits"], [NEXT_TOKEN_OUTPUT], axis=-1, keepdims=0, name="fslm_next_token"))
    g.output.append(onnx.helper.make_tensor_value_info(NEXT_TOKEN_OUTPUT, onnx.TensorProto.INT64, ["batch_size", "sequence_length"]))
    return model_proto


def export_decoder(model, out_path: Path, opset: int = 18) -> dict:
    """Exports `model` (float32, eval) to out_path; returns the geometry it found."""
    model = model.eval()
    layers, kv_heads, head_dim = kv_geometry(model)
    b, s, p = EXAMPLE_BATCH, EXAMPLE_SEQ, EXAMPLE_PAST
    vocab = model.config.get_text_config().vocab_size
    args = (
        torch.randint(0, vocab, (b, s)),
        torch.ones((b, p + s), dtype=torch.long),
        torch.arange(p, p + s).repeat(b, 1),
        *[torch.randn(b, kv_heads, p, head_dim) for _ in range(2 * layers)],
    )
    Dim = torch.export.Dim
    batch, seq, past = Dim("batch_size"), Dim("sequence_length"), Dim("past_sequence_length")
    dynamic = (
        {0: batch, 1: seq},
        {0: batch, 1: Dim.DYNAMIC},
        {0: batch, 1: seq},
        tuple({0: batch, 2: past} for _ in range(2 * layers)),
    )
    inputs, outputs = io_names(layers)
    with export_attention(model) as grouped:
        program = torch.onnx.export(
            FlatPastDecoder(model, layers).eval(), args, None, input_names=inputs, output_names=outputs,
            dynamic_shapes=dynamic, dynamo=True, opset_version=opset, verbose=False,
        )
    weight_bytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    external = weight_bytes > SINGLE_FILE_LIMIT
    out_path.parent.mkdir(parents=True, exist_ok=True)
    program.save(str(out_path), external_data=external)
    # Loaded without external data, the rewritten proto keeps pointing at the same data file.
    proto = add_next_token(_name_total_axis(onnx.load(str(out_path), load_external_data=False)))
    onnx.save(proto, str(out_path))
    return {"num_layers": layers, "num_key_value_heads": kv_heads, "head_dim": head_dim, "external_data": external,
            "attention": "grouped" if grouped else "native"}

"""Grouped-query attention written for the ONNX export.

transformers' eager and sdpa paths repeat every key/value head for its query heads (repeat_kv) and
transpose the whole key cache on each step; exported, that is an Expand and a Transpose of the cache
per layer per token, and the cost grows with the position. Here the query heads that share a
key/value head are folded into the query length instead, so the cache is read as it is: one MatMul
against its transpose (which onnxruntime fuses into the MatMul), an additive mask, a softmax, one
MatMul with the values. The maths is eager attention's; export checks the result against PyTorch.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from transformers import AttentionInterface
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, eager_mask

EXPORT_ATTENTION = "fslm_export"


def grouped_query_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """query [B, H, S, D]; key, value [B, KV, L, D]; attention_mask additive [B, 1, S, L] or None.
    Returns [B, S, H, D] and no weights."""
    for unsupported in ("softcap", "sinks", "s_aux"):
        if kwargs.get(unsupported) is not None:
            raise ValueError(f"the export attention does not implement {unsupported}")
    batch, heads, q_len, head_dim = query.shape
    kv_heads, kv_len = key.shape[1], key.shape[2]
    groups = heads // kv_heads
    if scaling is None:
        scaling = head_dim ** -0.5
    # Query head h reads key/value head h // groups (transformers' repeat_kv order).
    q = (query * scaling).reshape(batch, kv_heads, groups * q_len, head_dim)
    scores = torch.matmul(q, key.transpose(2, 3)).reshape(batch, kv_heads, groups, q_len, kv_len)
    if attention_mask is not None:
        scores = scores + attention_mask[:, :, None, :, : kv_len]
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    out = torch.matmul(probs.reshape(batch, kv_heads, groups * q_len, kv_len), value)
    return out.reshape(batch, heads, q_len, head_dim).transpose(1, 2), None


AttentionInterface.register(EXPORT_ATTENTION, grouped_query_attention)
ALL_MASK_ATTENTION_FUNCTIONS.register(EXPORT_ATTENTION, eager_mask)


def _uses_repeat_kv(model) -> bool:
    """Llama-family attention (Llama, Mistral, Qwen2, ...): modules that repeat key/value heads for
    their query heads and hand `scaling` to the attention function. Other families (GPT-2, GPT-NeoX)
    keep their own attention, whose scaling and extras this function does not model."""
    return any(hasattr(m, "num_key_value_groups") and hasattr(m, "scaling") for m in model.modules())


@contextmanager
def export_attention(model):
    """Runs `model` with the grouped export attention where it applies (yields True), restoring its
    own implementation afterwards; otherwise leaves it as it is (yields False)."""
    previous = getattr(model.config, "_attn_implementation", None)
    if not _uses_repeat_kv(model):
        yield False
        return
    try:
        model.set_attn_implementation(EXPORT_ATTENTION)
    except (ValueError, AttributeError, NotImplementedError):
        yield False
        return
    try:
        yield True
    finally:
        model.set_attn_implementation(previous or "sdpa")

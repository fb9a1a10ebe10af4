"""The grouped export attention is eager attention's maths without repeating the key/value cache."""

from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama.modeling_llama import eager_attention_forward

from fslm_trainer.export_attention import EXPORT_ATTENTION, export_attention, grouped_query_attention


class _Module(torch.nn.Module):
    def __init__(self, groups: int):
        super().__init__()
        self.num_key_value_groups = groups


def test_it_matches_eager_attention_with_grouped_heads_padding_and_a_cache():
    torch.manual_seed(0)
    batch, heads, kv_heads, q_len, kv_len, dim = 2, 6, 2, 3, 7, 8
    query = torch.randn(batch, heads, q_len, dim)
    key, value = torch.randn(batch, kv_heads, kv_len, dim), torch.randn(batch, kv_heads, kv_len, dim)
    allowed = torch.ones(batch, 1, q_len, kv_len, dtype=torch.bool).tril(kv_len - q_len)
    allowed[1, :, :, :3] = False  # the second row is left-padded by three positions
    mask = torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo(torch.float32).min)
    module = _Module(heads // kv_heads)
    expected, _ = eager_attention_forward(module, query, key, value, mask, scaling=dim ** -0.5)
    got, weights = grouped_query_attention(module, query, key, value, mask, scaling=dim ** -0.5)
    assert weights is None
    assert got.shape == expected.shape == (batch, q_len, heads, dim)
    assert torch.allclose(got, expected, atol=1e-6)


def test_a_llama_model_runs_with_it_only_inside_the_context():
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32)
    model = LlamaForCausalLM(config).eval()
    ids = torch.tensor([[3, 5, 7, 9]])
    before = model(input_ids=ids).logits
    with export_attention(model) as grouped:
        assert grouped and model.config._attn_implementation == EXPORT_ATTENTION
        inside = model(input_ids=ids).logits
    assert model.config._attn_implementation != EXPORT_ATTENTION
    assert torch.allclose(inside, before, atol=1e-5)

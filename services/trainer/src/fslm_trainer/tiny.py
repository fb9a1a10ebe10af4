"""make-tiny: a random-initialised 2-layer Llama with a real tokenizer, for fast tests."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AutoTokenizer, GenerationConfig, LlamaConfig, LlamaForCausalLM

from .base import BASE_INFO
from .config import TinyConfig
from .outdir import staged_dir
from .tokenizer_files import copy_tokenizer_files


def make_tiny(cfg: TinyConfig) -> Path:
    tokenizer = AutoTokenizer.from_pretrained(cfg.tokenizer_from)
    src_gen = cfg.tokenizer_from / "generation_config.json"
    gen = GenerationConfig.from_pretrained(cfg.tokenizer_from) if src_gen.is_file() else GenerationConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden,
        intermediate_size=cfg.intermediate,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        num_key_value_heads=cfg.kv_heads,
        max_position_embeddings=cfg.max_positions,
        tie_word_embeddings=True,
        initializer_range=cfg.init_std,
        bos_token_id=gen.bos_token_id,
        eos_token_id=gen.eos_token_id,
        pad_token_id=gen.pad_token_id,
        architectures=["LlamaForCausalLM"],
    )
    torch.manual_seed(cfg.seed)
    model = LlamaForCausalLM(config).eval()
    # The usual std 0.02 gives near-uniform logits and a greedy loop stuck on one or two tokens;
    # std 0.3 gives varied greedy tokens with margins well above float32 noise (logit std ~2.4),
    # so parity tests compare something meaningful.
    model.generation_config = gen
    with staged_dir(cfg.out) as tmp:
        model.save_pretrained(tmp)
        gen.save_pretrained(tmp)
        copy_tokenizer_files(cfg.tokenizer_from, tmp)
        (tmp / BASE_INFO).write_text(json.dumps({"base": "tiny", "source": f"random init, seed {cfg.seed}"}) + "\n")
    return cfg.out

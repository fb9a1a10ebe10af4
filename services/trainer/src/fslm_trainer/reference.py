"""reference: PyTorch float32 greedy outputs and logits for the fixed prompts, for the engine's parity tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from .base import base_provenance
from .config import ReferenceConfig
from .log import log
from .outdir import staged_dir
from .prompts import render, usable
from .steppers import TorchStepper, greedy

METHOD = "manual KV-cached loop, pure argmax over all logits, no EOS stop (EOS kept and fed back)"


def make_reference(cfg: ReferenceConfig) -> Path:
    tokenizer = AutoTokenizer.from_pretrained(cfg.model)
    model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=torch.float32).eval()
    vocab = int(model.config.get_text_config().vocab_size)
    rows_per_prompt = cfg.tokens + 1
    entries, blocks = [], []
    for i, prompt in enumerate(usable(tokenizer)):
        text, ids, add_special = render(prompt, tokenizer)
        out, rows = greedy(TorchStepper(model), ids, cfg.tokens)
        assert rows.shape == (rows_per_prompt, vocab), rows.shape
        entry = {"name": prompt.name, "text": text, "chat": prompt.chat}
        if prompt.chat:
            entry["messages"] = prompt.messages
        entry.update({
            "add_special_tokens": add_special,
            "input_ids": ids,
            "greedy_ids": out,
            "greedy_text": tokenizer.decode(out, skip_special_tokens=False),
            "logits_offset": i * rows_per_prompt * vocab,
        })
        entries.append(entry)
        blocks.append(rows)
        log(f"reference {prompt.name}: {len(ids)} prompt ids, greedy {out[:8]}...")
    doc = {
        "model": base_provenance(cfg.model, cfg.model.resolve().name),
        "tokens": cfg.tokens,
        "method": METHOD,
        "logits_layout": f"little-endian float32, per prompt {rows_per_prompt} rows x vocab_size; "
                         "row 0 = prefill last position, row j = after feeding greedy token j-1",
        "add_bos_token": bool(getattr(tokenizer, "add_bos_token", False)),
        "prompts": entries,
        "vocab_size": vocab,
    }
    with staged_dir(cfg.out) as tmp:
        np.concatenate(blocks).astype("<f4").tofile(tmp / "logits.f32")
        (tmp / "reference.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return cfg.out

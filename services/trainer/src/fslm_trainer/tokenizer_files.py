"""Tokenizer files that every peer reads the same way: the pre-tokenizer fix for GGUF bases,
an explicit add_bos_token, and the chat template inside tokenizer_config.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tokenizers import pre_tokenizers

from .exitcodes import BadInput

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json")


def gguf_pre_tokenizer(pre_type: str):
    """The pre-tokenizer llama.cpp uses for a GGUF `tokenizer.ggml.pre`, where transformers has no mapping.

    llama.cpp's 'smollm' splits every digit (regex \\p{N}) before the GPT-2 byte-level regex;
    transformers silently falls back to plain ByteLevel and loses the digit split.
    """
    if pre_type == "smollm":
        return pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ])
    raise ValueError(f"no known pre-tokenizer for GGUF pre-type {pre_type!r}")


def adds_bos(tokenizer) -> bool:
    """Whether the tokenizer, as it is now, puts BOS in front of plain text."""
    bos = tokenizer.bos_token_id
    ids = tokenizer("a", add_special_tokens=True)["input_ids"]
    return bos is not None and len(ids) > 0 and ids[0] == bos


def finalize_tokenizer_dir(directory: Path, add_bos_token: bool, model_max_length: int | None = None) -> None:
    """Rewrites tokenizer_config.json with add_bos_token/add_eos_token explicit and the chat template
    copied in from chat_template.jinja (transformers 5 writes only the .jinja; transformers.js reads
    only tokenizer_config.json). Both copies are kept."""
    cfg_path = directory / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["add_bos_token"] = bool(add_bos_token)
    cfg.setdefault("add_eos_token", False)
    if model_max_length:
        cfg["model_max_length"] = int(model_max_length)
    jinja = directory / "chat_template.jinja"
    if jinja.is_file():
        cfg["chat_template"] = jinja.read_text(encoding="utf-8")
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def copy_tokenizer_files(src: Path, dst: Path) -> None:
    if not (src / "tokenizer.json").is_file():
        raise BadInput(f"{src} has no tokenizer.json (a fast tokenizer is required)")
    dst.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, dst / name)

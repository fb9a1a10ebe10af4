"""After training: the adapter's own files, the merged HF model, and the exported stage artifact."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from .base import BASE_INFO
from .config import ArtifactExtras, ExportConfig
from .export import export_artifact
from .log import log
from .tokenizer_files import adds_bos, copy_tokenizer_files, finalize_tokenizer_dir

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def save_adapter(peft_model, directory: Path) -> dict[str, Path]:
    """The adapter alone (peft's format; a few MB), as artifact-relative path -> file."""
    shutil.rmtree(directory, ignore_errors=True)
    peft_model.save_pretrained(directory)
    return {f"adapter/{name}": directory / name for name in ADAPTER_FILES}


def save_merged(peft_model, tokenizer, generation_config, base_dir: Path, directory: Path,
                base_provenance: str, chat_template: str | None) -> Path:
    """Folds the adapter into the base weights (float32, CPU) and saves an HF directory with the base's
    tokenizer files unchanged (plus `chat_template` when the base had none)."""
    model = peft_model.to("cpu").merge_and_unload().to(torch.float32).eval()
    shutil.rmtree(directory, ignore_errors=True)
    model.save_pretrained(directory)
    generation_config.save_pretrained(directory)
    copy_tokenizer_files(base_dir, directory)
    if chat_template:
        (directory / "chat_template.jinja").write_text(chat_template, encoding="utf-8")
    max_len = getattr(model.config, "max_position_embeddings", None)
    finalize_tokenizer_dir(directory, add_bos_token=adds_bos(tokenizer), model_max_length=max_len)
    (directory / BASE_INFO).write_text(json.dumps({"base": base_provenance, "source": base_provenance,
                                                   "merged_lora": True}) + "\n")
    return directory


def export_stage(merged: Path, out: Path, *, name: str, stage: str, base_model: str, int8: bool, int4: bool,
                 extras: ArtifactExtras) -> dict:
    log(f"exporting the merged model to {out}")
    cfg = ExportConfig(model=merged, out=out, int8=int8, int4=int4, name=name, stage=stage, base_model=base_model)
    return export_artifact(cfg, extras)

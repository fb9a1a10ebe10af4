"""Flags and environment variables of finetune / stage-job, in one table: every setting can come from
the command line or from its FSLM_* variable (the Kubernetes Job sets those), the flag winning."""

from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Callable

from .config import FinetuneConfig, LoraSettings
from .exitcodes import BadInput


@dataclass(frozen=True)
class Setting:
    flag: str
    env: str
    field: str  # FinetuneConfig field, or lora.<field>
    kind: Callable[[str], Any]
    help: str


def _bool(v: str) -> bool:
    if v.lower() in ("1", "true", "yes", "on"):
        return True
    if v.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(v)


def _targets(v: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in v.split(",") if t.strip())


SETTINGS = [
    Setting("--data", "FSLM_DATASET", "data", str, "the stage's JSONL (path or file:// URI)"),
    Setting("--base-model", "FSLM_BASE_MODEL", "base_model", str, "HF dir / file:// URI, known base, or hub id"),
    Setting("--out", "FSLM_OUTPUT", "out", str, "artifact to write: a path, file:// URI, or s3://bucket/prefix (published when complete)"),
    Setting("--stage", "FSLM_STAGE", "stage", str, "stage name (rows with another `stage` are refused)"),
    Setting("--stack", "FSLM_STACK", "stack", str, "stack file the stage must belong to"),
    Setting("--run", "FSLM_RUN", "run", str, "training run name (fslm.json training_run)"),
    Setting("--work", "FSLM_WORK", "work", str, "checkpoints and scratch (default: .<out>.work beside out)"),
    Setting("--lora-rank", "FSLM_LORA_RANK", "lora.rank", int, "LoRA rank"),
    Setting("--lora-alpha", "FSLM_LORA_ALPHA", "lora.alpha", float, "LoRA alpha"),
    Setting("--lora-dropout", "FSLM_LORA_DROPOUT", "lora.dropout", float, "LoRA dropout"),
    Setting("--lora-targets", "FSLM_LORA_TARGETS", "lora.targets", _targets, "all-linear | auto | module,names"),
    Setting("--max-steps", "FSLM_MAX_STEPS", "max_steps", int, "optimizer steps"),
    Setting("--batch-size", "FSLM_BATCH_SIZE", "batch_size", int, "rows per micro-batch"),
    Setting("--grad-accum", "FSLM_GRAD_ACCUM", "grad_accum", int, "micro-batches per step"),
    Setting("--lr", "FSLM_LR", "lr", float, "peak learning rate"),
    Setting("--warmup-ratio", "FSLM_WARMUP_RATIO", "warmup_ratio", float, "warmup share of max_steps"),
    Setting("--weight-decay", "FSLM_WEIGHT_DECAY", "weight_decay", float, "AdamW weight decay"),
    Setting("--max-length", "FSLM_MAX_LENGTH", "max_length", int, "tokens of prompt + completion"),
    Setting("--eval-fraction", "FSLM_EVAL_FRACTION", "eval_fraction", float, "held-out share of rows"),
    Setting("--eval-max-rows", "FSLM_EVAL_MAX_ROWS", "eval_max_rows", int, "held-out rows at most"),
    Setting("--eval-every", "FSLM_EVAL_EVERY", "eval_every", int, "evaluate every N steps (0: start and end)"),
    Setting("--checkpoint-every", "FSLM_CHECKPOINT_EVERY", "checkpoint_every", int, "checkpoint every N steps"),
    Setting("--keep-checkpoints", "FSLM_KEEP_CHECKPOINTS", "keep_checkpoints", int, "checkpoints kept"),
    Setting("--log-every", "FSLM_LOG_EVERY", "log_every", int, "a progress line every N steps"),
    Setting("--seed", "FSLM_SEED", "seed", int, "seed of LoRA init, data order and dropout"),
    Setting("--device", "FSLM_DEVICE", "device", str, "auto | cpu | cuda (bf16 autocast where the GPU has it)"),
    Setting("--threads", "FSLM_THREADS", "threads", int, "torch CPU threads (0: default)"),
    Setting("--int8", "FSLM_INT8", "int8", _bool, "also write the int8 ONNX model (8-bit MatMulNBits)"),
    Setting("--int4", "FSLM_INT4", "int4", _bool, "also write the int4 ONNX model (4-bit MatMulNBits)"),
    Setting("--status-file", "FSLM_STATUS_FILE", "status_file", str, "latest progress as JSON (default <work>/status.json)"),
    Setting("--keep-work", "FSLM_KEEP_WORK", "keep_work", _bool, "keep checkpoints and the merged model"),
    Setting("--traceparent", "TRACEPARENT", "traceparent", str, "W3C trace context of the run"),
]
REQUIRED = ("data", "base_model", "out")


def add_arguments(p: argparse.ArgumentParser) -> None:
    for s in SETTINGS:
        if s.kind is _bool:
            p.add_argument(s.flag, action="store_const", const="1", default=None, help=f"{s.help} [{s.env}]")
        else:
            p.add_argument(s.flag, default=None, help=f"{s.help} [{s.env}]")


def finetune_config(args: argparse.Namespace, env: dict[str, str] | None = None,
                    required: tuple[str, ...] = REQUIRED) -> FinetuneConfig:
    env = dict(os.environ if env is None else env)
    top: dict[str, Any] = {}
    lora: dict[str, Any] = {}
    for s in SETTINGS:
        raw = getattr(args, s.flag[2:].replace("-", "_"))
        source = s.flag
        if raw is None and env.get(s.env, "") != "":
            raw, source = env[s.env], s.env
        if raw is None:
            continue
        try:
            value = s.kind(raw)
        except ValueError:
            raise BadInput(f"{source}: expected {s.kind.__name__.lstrip('_')}, got {raw!r}") from None
        (lora if s.field.startswith("lora.") else top)[s.field.removeprefix("lora.")] = value
    missing = [f for f in required if not top.get(f)]
    if missing:
        names = [f"{s.flag} / {s.env}" for s in SETTINGS if s.field in missing]
        raise BadInput(f"missing required setting(s): {', '.join(names)}")
    return dataclasses.replace(FinetuneConfig(data="", base_model="", out=""), lora=LoraSettings(**lora), **top)

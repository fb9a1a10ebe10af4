"""finetune: one stage's JSONL -> LoRA on the base model -> merged -> exported stage artifact.

Inputs are checked before any model is loaded, so bad input fails in seconds with exit 2. A rerun
with the same settings resumes from the newest checkpoint under the work directory; a rerun after
the artifact was written returns it without training again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

from .config import ArtifactExtras, FinetuneConfig
from .exitcodes import BadInput, TrainerError
from .k8s_pod import PodAnnotator
from .log import log
from .lora_settings import check_settings
from .manifest import MANIFEST, read_manifest, sha256_file
from .model_store import check_destination, is_store_uri, push, staging_dir
from .progress import Progress
from .sft_rows import load_rows
from .stackdef import load_stack
from .tracing import Tracer, context_from
from .uri import input_file, local_path, output_dir

# torch, transformers and peft are imported once the inputs have been checked: bad input fails fast.

FINAL_LOSS_WINDOW = 10


def check_config(cfg: FinetuneConfig) -> None:
    positive = {"max_steps": cfg.max_steps, "batch_size": cfg.batch_size, "grad_accum": cfg.grad_accum,
                "checkpoint_every": cfg.checkpoint_every, "keep_checkpoints": cfg.keep_checkpoints}
    for name, v in positive.items():
        if v < 1:
            raise BadInput(f"{name} must be at least 1, got {v}")
    if cfg.max_length < 16:
        raise BadInput(f"max_length must be at least 16 tokens, got {cfg.max_length}")
    if not cfg.lr > 0:
        raise BadInput(f"lr must be positive, got {cfg.lr}")
    if not 0 <= cfg.eval_fraction < 1:
        raise BadInput(f"eval_fraction must be in [0, 1), got {cfg.eval_fraction}")
    if cfg.device not in ("auto", "cpu", "cuda"):
        raise BadInput(f"device must be auto, cpu or cuda, got {cfg.device!r}")
    check_settings(cfg.lora)


def fingerprint(cfg: FinetuneConfig, data_sha256: str, base_dir: Path, base: str, prompt_version: str = "") -> str:
    """What makes checkpoints and an artifact reusable: the data, the base, the stage's prompt (its system
    prompt and template, when rows are rendered from a stack) and every setting that changes the weights
    (not max_steps: a run can be extended; not the device: a checkpoint written on one node resumes on
    another)."""
    settings = dataclasses.asdict(cfg)
    for key in ("data", "base_model", "out", "work", "status_file", "keep_work", "traceparent", "max_steps",
                "log_every", "threads", "int8", "int4", "run", "stack", "checkpoint_every", "keep_checkpoints",
                "eval_every", "device"):
        settings.pop(key)
    blob = json.dumps({"settings": settings, "data": data_sha256, "base": base, **({"prompt": prompt_version} if prompt_version else {}),
                       "base_config": sha256_file(base_dir / "config.json")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def pick_device(cfg: FinetuneConfig):
    import torch

    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise TrainerError("device cuda was asked for, but no CUDA device is visible")  # retry elsewhere
    if cfg.device == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu"), "fp32"
    return torch.device("cuda"), ("bf16" if torch.cuda.is_bf16_supported() else "fp32")


def _done(out: Path, fp: str) -> dict | None:
    if not (out / MANIFEST).is_file():
        return None
    manifest = read_manifest(out)
    if ((manifest.get("adapter") or {}).get("training") or {}).get("fingerprint") != fp:
        raise BadInput(f"{out} already holds an artifact from other data or settings; choose another output")
    return manifest


def finetune(cfg: FinetuneConfig, annotator: PodAnnotator | None = None) -> dict:
    check_config(cfg)
    tracer = Tracer(context_from(cfg.traceparent), attributes={"fslm.stage": cfg.stage, "fslm.run": cfg.run})
    data = input_file(cfg.data, "training data")
    # An s3:// output is written locally first and published when complete; its store is checked now.
    store_uri = cfg.out if is_store_uri(cfg.out) else None
    if store_uri:
        check_destination(store_uri)
        out = staging_dir(store_uri, cfg.work)
        out.parent.mkdir(parents=True, exist_ok=True)
    else:
        out = output_dir(cfg.out, "output")
    stage = None
    if cfg.stack:
        if not cfg.stage:
            raise BadInput("--stack needs --stage: the stage of that stack this model is for")
        stage = load_stack(local_path(cfg.stack, "stack")).stage(cfg.stage)
    rows = load_rows(data, cfg.stage, stage)
    from .base_source import resolve_base

    base_dir, base = resolve_base(cfg.base_model)
    data_sha256 = sha256_file(data)  # hashed once: the fingerprint and the artifact's training record
    fp = fingerprint(cfg, data_sha256, base_dir, base, stage.prompt_version if stage else "")
    work = local_path(cfg.work, "work directory").resolve() if cfg.work else out.parent / f".{out.name}.work"
    status = local_path(cfg.status_file, "status file") if cfg.status_file else work / "status.json"
    progress = Progress(cfg.max_steps, status, tracer.ctx.trace_id, cfg.stage, annotator)
    try:
        with tracer.span("fslm.trainer.finetune", **{"fslm.stage": cfg.stage, "fslm.max_steps": cfg.max_steps}):
            existing = _done(out, fp)
            if existing is not None:
                log(f"{out} is already complete for these inputs; nothing to do")
                progress.finish(step=cfg.max_steps, total=cfg.max_steps)
                result = _result(out, existing, resumed_from=cfg.max_steps, cached=True)
            else:
                result = _run(cfg, rows, data, data_sha256, base_dir, base, fp, work, out, progress, tracer)
            if store_uri:
                with tracer.span("fslm.trainer.publish", **{"fslm.output": store_uri}):
                    published = push(out, store_uri)
                log(f"published {out} to {published['uri']} (version {published['version']})")
                result = {**result, "out": published["uri"], "local": str(out), "version": published["version"]}
    except TrainerError as e:
        progress.fail(str(e), e.exit_code)
        raise
    except BaseException as e:
        progress.fail(f"{type(e).__name__}: {e}", 1)
        raise
    finally:
        tracer.flush()
    return result


def _run(cfg, rows, data, data_sha256, base_dir, base, fp, work, out, progress, tracer) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from . import checkpoint
    from .checkpoint import TrainState
    from .lora import describe, with_lora
    from .adapters import adapter_version
    from .merge import export_stage, save_adapter, save_merged
    from .chat_render import PromptTokenizer
    from .sft_data import build_dataset, ensure_chat_template, eos_id
    from .train_loop import evaluate, make_optimizer, train

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device, precision = pick_device(cfg)
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if precision == "bf16" else contextlib.nullcontext
    progress.phase("loading", device=device.type, precision=precision)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    fallback = ensure_chat_template(tokenizer)
    torch.manual_seed(cfg.seed)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    gen = model.generation_config
    eos = eos_id(tokenizer, gen)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    ds = build_dataset(rows, tokenizer, eos, cfg.max_length, cfg.eval_fraction, cfg.eval_max_rows, cfg.seed)
    # What the stage is trained to answer, for the record: the first row's prompt as rendered and tokenized.
    first = rows[0]["messages"]
    progress.event("prompt", row=0, messages=first, prompt_ids=PromptTokenizer(tokenizer).prompt_ids(first))
    log(f"{ds.rows} rows: {len(ds.train)} train, {len(ds.eval)} eval, {ds.dropped_too_long} dropped (prompt too long), "
        f"{ds.truncated} completions cut at {cfg.max_length} tokens")
    model = with_lora(model, cfg.lora).to(device)
    optimizer = make_optimizer(model, cfg)
    state = checkpoint.load_latest(work, model, optimizer, fp, device)
    resumed_from = state.step if state else 0
    if state:
        log(f"resuming from the checkpoint at step {state.step}")
        progress.event("resumed", step=state.step)
    else:
        state = TrainState()
        with tracer.span("fslm.trainer.eval"):
            ev = evaluate(model, ds, pad, device, autocast)
        if ev is not None:
            state.evals.append((0, ev))
            progress.evaluated(0, ev)
    if state.evals:
        progress.eval_loss = state.evals[-1][1]
    progress.phase("training", step=state.step, total=cfg.max_steps, resumed_from=resumed_from)
    with tracer.span("fslm.trainer.train", **{"fslm.resumed_from": resumed_from}):
        state = train(model, optimizer, ds, cfg, state, progress, work, fp, pad, device, autocast)
    if not state.evals or state.evals[-1][0] != state.step:
        ev = evaluate(model, ds, pad, device, autocast)
        if ev is not None:
            state.evals.append((state.step, ev))
            progress.evaluated(state.step, ev)
    progress.phase("exporting")
    adapter_info = describe(model, cfg.lora)
    metrics = _metrics(state, ds)
    adapter_info["training"] = {
        "fingerprint": fp, "data": data.resolve().as_uri(), "data_sha256": data_sha256,
        "rows": ds.rows, "train_rows": len(ds.train), "eval_rows": len(ds.eval), "max_steps": cfg.max_steps,
        "batch_size": cfg.batch_size, "grad_accum": cfg.grad_accum, "lr": cfg.lr, "max_length": cfg.max_length,
        "seed": cfg.seed, "device": device.type, "precision": precision,
        "chat_template": "fallback" if fallback else "base",
    }
    with tracer.span("fslm.trainer.export"):
        files = save_adapter(model, work / "adapter")
        adapter_info["version"] = adapter_version(work / "adapter")
        merged = save_merged(model, tokenizer, gen, base_dir, work / "merged", base,
                             tokenizer.chat_template if fallback else None)
        adapter_info["files"] = sorted(files)
        adapter_info["merged"] = True
        name = f"{cfg.run}-{cfg.stage}" if cfg.run and cfg.stage else (cfg.stage or out.name)
        extras = ArtifactExtras(files=files, adapter=adapter_info, training_run=cfg.run or None,
                                trace_id=tracer.ctx.trace_id, metrics=metrics)
        manifest = export_stage(merged, out, name=name, stage=cfg.stage, base_model=base, int8=cfg.int8, int4=cfg.int4, extras=extras)
    if not cfg.keep_work:
        shutil.rmtree(work / "merged", ignore_errors=True)
        shutil.rmtree(work / "adapter", ignore_errors=True)
        shutil.rmtree(checkpoint.checkpoint_dir(work), ignore_errors=True)
    progress.finish(step=state.step, total=cfg.max_steps, out=str(out))
    return _result(out, manifest, resumed_from=resumed_from, cached=False)


def _metrics(state, ds) -> dict:
    last = state.losses[-FINAL_LOSS_WINDOW:]
    m = {
        "train_loss": sum(last) / len(last) if last else None,
        "train_loss_first": state.losses[0] if state.losses else None,
        "eval_loss": state.evals[-1][1] if state.evals else None,
        "eval_loss_initial": state.evals[0][1] if state.evals else None,
        "steps": state.step,
        "tokens": state.tokens,
        "train_seconds": round(state.train_seconds, 3),
        "tokens_per_s": state.tokens / state.train_seconds if state.train_seconds else None,
        "seconds_per_100_steps": 100 * state.train_seconds / state.step if state.step else None,
        "rows": ds.rows,
        "eval_rows": len(ds.eval),
        "dropped_rows": ds.dropped_too_long,
        "truncated_rows": ds.truncated,
    }
    return {k: v for k, v in m.items() if v is not None}


def _result(out: Path, manifest: dict, resumed_from: int, cached: bool) -> dict:
    return {"event": "done", "out": str(out), "stage": manifest.get("stage", ""), "trace_id": manifest.get("trace_id"),
            "resumed_from": resumed_from, "cached": cached, "metrics": manifest.get("metrics", {})}

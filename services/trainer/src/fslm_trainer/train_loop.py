"""The optimisation loop: AdamW on the adapter, warmup then cosine learning rate, gradient
accumulation with the loss averaged over every completion token of the step, periodic eval and
checkpoints. Everything it depends on (data order, RNG) is restored from a checkpoint, so a
restarted run continues exactly where the last checkpoint left it."""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path
from typing import Callable

import torch

from . import checkpoint
from .checkpoint import TrainState
from .config import FinetuneConfig
from .progress import Progress
from .sft_data import IGNORE, Dataset, collate, micro_batch

MAX_GRAD_NORM = 1.0
EVAL_BATCH = 4


def warmup_steps(cfg: FinetuneConfig) -> int:
    return math.ceil(cfg.warmup_ratio * cfg.max_steps)


def lr_at(step: int, cfg: FinetuneConfig) -> float:
    """Learning rate of optimizer step `step` (1-based): linear warmup, then cosine down to 10%."""
    warm = warmup_steps(cfg)
    if step <= warm:
        return cfg.lr * step / warm
    progress = (step - warm) / max(1, cfg.max_steps - warm)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def make_optimizer(model, cfg: FinetuneConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def _targets(batch: dict) -> int:
    return int((batch["labels"][:, 1:] != IGNORE).sum())


@torch.no_grad()
def evaluate(model, ds: Dataset, pad_id: int, device, autocast: Callable) -> float | None:
    """Mean loss per completion token over the held-out rows."""
    if not ds.eval:
        return None
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(ds.eval), EVAL_BATCH):
        batch = collate(ds.eval[i:i + EVAL_BATCH], pad_id, device)
        n = _targets(batch)
        with autocast():
            loss = model(**batch).loss
        total += float(loss) * n
        count += n
    model.train(was_training)
    return total / max(1, count)


def train(model, optimizer, ds: Dataset, cfg: FinetuneConfig, state: TrainState, progress: Progress,
          work: Path, fingerprint: str, pad_id: int, device, autocast: Callable = contextlib.nullcontext) -> TrainState:
    params = [p for p in model.parameters() if p.requires_grad]
    model.train()
    while state.step < cfg.max_steps:
        t0 = time.perf_counter()
        step = state.step + 1
        lr = lr_at(step, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batches = [collate(micro_batch(ds, cfg.seed, cfg.batch_size, (step - 1) * cfg.grad_accum + j), pad_id, device)
                   for j in range(cfg.grad_accum)]
        counts = [_targets(b) for b in batches]  # one device sync per micro-batch
        n_total = max(1, sum(counts))
        loss_sum, tokens = 0.0, 0
        for batch, n in zip(batches, counts):
            with autocast():
                loss = model(**batch).loss
            (loss * (n / n_total)).backward()
            loss_sum += float(loss.detach()) * n
            tokens += int(batch["attention_mask"].sum())
        torch.nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        state.step, state.tokens = step, state.tokens + tokens
        state.train_seconds += seconds
        state.losses.append(loss_sum / n_total)
        progress.step(step, state.losses[-1], lr, seconds, tokens, log_it=step % max(1, cfg.log_every) == 0)
        if cfg.eval_every and step % cfg.eval_every == 0 and step < cfg.max_steps:
            ev = evaluate(model, ds, pad_id, device, autocast)
            if ev is not None:
                state.evals.append((step, ev))
                progress.evaluated(step, ev)
        if step % max(1, cfg.checkpoint_every) == 0 or step == cfg.max_steps:
            path = checkpoint.save(work, model, optimizer, state, fingerprint, cfg.keep_checkpoints)
            progress.event("checkpoint", step=step, path=str(path))
    return state

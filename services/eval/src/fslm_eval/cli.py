"""fslm eval: evaluate fslm systems (and lm-eval's hf model as a cross-check) on tasks, then write a report.

    fslm eval --system stack=stack:stacks/default.yaml --system single=artifact:DIR;chat=true \\
              --tasks wordnet-mc,arithmetic,instructions --limit 50 --out reports/run1
    fslm eval --system tiny=artifact:DIR --jsonl tinyArc=tinyArc.jsonl --out reports/arc
    fslm eval report --out reports/run1          # rewrite report.md and the charts from saved results

Systems are NAME=KIND:TARGET[;key=value...] (see fslm_eval.systems). Tasks: --tasks names held-out sets
in evals/tasks (default: all of them unless --jsonl or --task-file is given), --task-file an lm-eval
task YAML, --jsonl NAME=FILE a user's multiple-choice JSONL in the lm-eval / tinyBenchmarks shape.
Rerunning with the same --out resumes: requests already answered come from out/cache/. Progress goes
to stderr; the last line of stdout is a JSON object with the report's path and each system's accuracy.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fslm eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", nargs="?", choices=["run", "report"], default="run")
    p.add_argument("--system", action="append", default=[], metavar="NAME=KIND:TARGET", help="a system to evaluate (repeatable)")
    p.add_argument("--tasks", default="", help="comma-separated held-out task names (evals/tasks), or 'all'")
    p.add_argument("--task-file", action="append", default=[], type=Path, help="an lm-eval task YAML (repeatable)")
    p.add_argument("--jsonl", action="append", default=[], metavar="NAME=FILE", help="a multiple-choice JSONL task (repeatable)")
    p.add_argument("--limit", type=int, default=None, help="at most this many documents per task (the first ones)")
    p.add_argument("--out", type=Path, required=True, help="folder for results, samples, cache and the report")
    p.add_argument("--fresh", action="store_true", help="ignore the cache of earlier runs in --out")
    p.add_argument("--timeout-s", type=float, default=600.0, help="deadline of one request to a system (default 600)")
    return p


def _tasks(args) -> list[dict]:
    from .tasks import held_out, jsonl_task, load_task_yaml

    tasks: list[dict] = []
    names = [n for n in args.tasks.split(",") if n and n != "all"]
    if names or args.tasks == "all" or not (args.jsonl or args.task_file):
        tasks += held_out(names or None)
    for path in args.task_file:
        tasks.append(load_task_yaml(path))
    for item in args.jsonl:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise ValueError(f"--jsonl {item!r}: expected NAME=FILE")
        tasks.append(jsonl_task(name, Path(file)))
    seen: set[str] = set()
    for t in tasks:
        if t["task"] in seen:
            raise ValueError(f"two tasks are named {t['task']!r}")
        seen.add(t["task"])
    return tasks


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Everything stays on this machine: no Hugging Face Hub or dataset downloads.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.getLogger("lm-eval").setLevel(logging.WARNING)
    from .report import write_report
    from .runner import RunOptions, evaluate_system
    from .systems import parse_system
    from .tasks import TaskError
    from .wire import EvalError

    if args.command == "report":
        try:
            print(json.dumps({"report": str(write_report(args.out))}))
        except FileNotFoundError as e:
            print(f"fslm eval: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return EXIT_OK
    try:
        if not args.system:
            raise ValueError("name at least one --system NAME=KIND:TARGET")
        specs = [parse_system(s) for s in args.system]
        if len({s.name for s in specs}) != len(specs):
            raise ValueError("two systems have the same name")
        if args.limit is not None and args.limit < 1:
            raise ValueError("--limit must be a positive integer")
        tasks = _tasks(args)
    except (ValueError, TaskError) as e:
        print(f"fslm eval: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    args.out.mkdir(parents=True, exist_ok=True)
    options = RunOptions(out=args.out, limit=args.limit, fresh=args.fresh, timeout_s=args.timeout_s)
    summary = {}
    try:
        for spec in specs:
            print(f"[eval] {spec.name}: {spec.kind} {spec.target} on {', '.join(t['task'] for t in tasks)}", file=sys.stderr)
            result = evaluate_system(spec, tasks, options)
            summary[spec.name] = {t: {m: v["value"] for m, v in r["metrics"].items()} for t, r in result["tasks"].items()}
    except EvalError as e:
        print(f"fslm eval: {e}", file=sys.stderr)
        return EXIT_FAILED
    report = write_report(args.out)
    print(f"[eval] report: {report}", file=sys.stderr)
    print(json.dumps({"report": str(report), "accuracy": summary}))
    return EXIT_OK

"""Runs lm-eval's simple_evaluate for each system on the same tasks and keeps what the report needs:
out/results/<system>.json (metrics with per-document outcomes, parameters, cost per stage, wall time),
out/samples/<system>/<task>.jsonl (lm-eval's logged samples: per-choice log-likelihoods, targets,
metrics), out/cache/<system>.jsonl (per-request results, for resuming) and out/logs/ (processes)."""

from __future__ import annotations

import copy
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from lm_eval import simple_evaluate

from .fslm_lm import FslmLM
from .intervals import wilson
from .request_cache import RequestCache
from .systems import SystemSpec, open_backend


@dataclass
class RunOptions:
    out: Path
    limit: int | None = None
    fresh: bool = False
    timeout_s: float = 600.0
    bootstrap_iters: int = 1000


def _metric_names(results: dict, task: str) -> list[str]:
    return [k.split(",")[0] for k in results[task] if "," in k and not k.split(",")[0].endswith("_stderr")]


def summarize(res: dict) -> dict:
    """Per task: each metric's value, lm-eval's stderr, n, successes and the Wilson 95% interval."""
    tasks = {}
    for task, metrics in res["results"].items():
        samples = res.get("samples", {}).get(task, [])
        entry = {"n": len(samples), "metrics": {}}
        for name in _metric_names(res["results"], task):
            values = [float(s[name]) for s in samples if name in s]
            binary = values and all(v in (0.0, 1.0) for v in values)
            k = sum(values)
            low, high = wilson(k, len(values)) if binary else (None, None)
            entry["metrics"][name] = {"value": metrics[f"{name},none"], "stderr": metrics.get(f"{name}_stderr,none"),
                                      "n": len(values), "successes": k if binary else None, "interval95": [low, high],
                                      "interval_method": "wilson" if binary else None}
        tasks[task] = entry
    return tasks


def cost_summary(records: list[dict]) -> dict:
    """Mean tokens and milliseconds per request, per stage, over the requests answered (cached ones included:
    their cost is the one measured when they ran)."""
    if not records:
        return {"requests": 0, "stages": [], "request_ms_mean": None}
    order: list[str] = []
    per: dict[str, dict[str, list[float]]] = {}
    for r in records:
        for s in r["stages"]:
            if s["stage"] not in per:
                order.append(s["stage"])
                per[s["stage"]] = {"ms": [], "prompt_tokens": [], "completion_tokens": []}
            for key in ("ms", "prompt_tokens", "completion_tokens"):
                per[s["stage"]][key].append(float(s[key]))
    stages = [{"stage": name, **{f"{k}_mean": statistics.fmean(v) for k, v in per[name].items()}, "calls": len(per[name]["ms"])}
              for name in order]
    return {"requests": len(records), "cached": sum(1 for r in records if r.get("cached")), "stages": stages,
            "request_ms_mean": statistics.fmean(r["ms"] for r in records),
            "request_ms_p50": statistics.median(r["ms"] for r in records)}


def _save_samples(out: Path, name: str, res: dict) -> None:
    folder = out / "samples" / name
    folder.mkdir(parents=True, exist_ok=True)
    for task, samples in res.get("samples", {}).items():
        with open(folder / f"{task}.jsonl", "w", encoding="utf-8") as f:
            for s in samples:
                f.write(json.dumps({k: s[k] for k in s if k not in ("doc_hash", "prompt_hash", "target_hash")},
                                   ensure_ascii=False, default=str) + "\n")


def evaluate_system(spec: SystemSpec, tasks: list[dict], options: RunOptions) -> dict:
    """Evaluates one system on the tasks and writes its results; returns the saved summary."""
    out = options.out
    started = time.perf_counter()
    records: list[dict] = []
    common = dict(tasks=copy.deepcopy(tasks), limit=options.limit, log_samples=True, bootstrap_iters=options.bootstrap_iters)
    if spec.kind == "hf":
        res = simple_evaluate(model="hf", model_args=f"pretrained={Path(spec.target).resolve()},dtype=float32,device=cpu",
                              batch_size=1, **common)
        parameters = int(res["config"].get("model_num_parameters") or 0)
        models = [{"stage": "hf", "model": str(spec.target), "version": "", "parameters": parameters}]
        cache_hits = 0
    else:
        backend = open_backend(spec, out / "logs", options.timeout_s)
        cache = RequestCache(out / "cache" / f"{spec.name}.jsonl", fresh=options.fresh)
        try:
            res = simple_evaluate(model=FslmLM(backend, cache, records.append, spec.name), **common)
        finally:
            backend.close()
            cache.close()
        parameters, models, cache_hits = backend.parameters, backend.models, cache.hits
    _save_samples(out, spec.name, res)
    summary = {
        "system": spec.name, "kind": spec.kind, "target": spec.target, "options": spec.options,
        "parameters": parameters, "models": models, "tasks": summarize(res), "cost": cost_summary(records),
        "wall_s": time.perf_counter() - started, "cache_hits": cache_hits, "limit": options.limit,
        "lm_eval": {"version": res.get("lm_eval_version", ""), "configs": {t: {k: str(v) for k, v in c.items() if k in
                    ("doc_to_text", "doc_to_choice", "doc_to_target", "output_type", "generation_kwargs", "metric_list")}
                    for t, c in res.get("configs", {}).items()}},
    }
    results = out / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{spec.name}.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n")
    stats = out / "stats"
    stats.mkdir(parents=True, exist_ok=True)
    with open(stats / f"{spec.name}.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return summary

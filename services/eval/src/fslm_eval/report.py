"""The evaluation report: out/report.md with accuracy (95% Wilson intervals, lm-eval's stderr beside
them), parameters, tokens and latency per stage and wall time, and two PNG charts made with matplotlib:
accuracy by system with its intervals (out/accuracy.png) and a per-stage latency waterfall
(out/latency.png: each stage's mean time per request, starting where the stages before it end)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

from .chain import chain_analysis
from .paired import paired

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load_results(out: Path) -> list[dict]:
    files = sorted((out / "results").glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no results in {out / 'results'}: run fslm eval with --out {out} first")
    return [json.loads(f.read_text()) for f in files]


def _fmt(x, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _params(n: int) -> str:
    return "unknown" if not n else f"{n / 1e6:.1f}M"


def primary_metric(task: dict) -> str:
    names = list(task["metrics"])
    for preferred in ("acc", "exact_match"):
        if preferred in names:
            return preferred
    return names[0]


def accuracy_chart(results: list[dict], path: Path) -> None:
    tasks = sorted({t for r in results for t in r["tasks"]})
    fig, ax = plt.subplots(figsize=(max(6, 1.8 * len(tasks) * max(1, len(results)) / 2), 4.2))
    width = 0.8 / max(1, len(results))
    for i, r in enumerate(results):
        xs, ys, lo, hi = [], [], [], []
        for j, task in enumerate(tasks):
            if task not in r["tasks"]:
                continue
            m = r["tasks"][task]["metrics"][primary_metric(r["tasks"][task])]
            low, high = m["interval95"]
            xs.append(j + (i - (len(results) - 1) / 2) * width)
            ys.append(m["value"])
            lo.append(max(0.0, m["value"] - (low if low is not None else m["value"])))
            hi.append(max(0.0, (high if high is not None else m["value"]) - m["value"]))
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, label=f"{r['system']} ({_params(r['parameters'])})")
    ax.set_xticks(range(len(tasks)))
    ax.set_xticklabels([f"{t}\n({primary_metric(next(r['tasks'][t] for r in results if t in r['tasks']))})" for t in tasks])
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy (95% Wilson interval)")
    ax.legend(fontsize=8)
    ax.set_title("Accuracy by system")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def latency_chart(results: list[dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.6 * len(results)))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    stage_colors: dict[str, str] = {}
    for row, r in enumerate(results):
        start = 0.0
        stages = r["cost"]["stages"] or [{"stage": "whole run", "ms_mean": 1000 * r["wall_s"] / max(1, _docs(r))}]
        for s in stages:
            color = stage_colors.setdefault(s["stage"], colors[len(stage_colors) % len(colors)])
            ax.barh(row, s["ms_mean"], left=start, color=color, edgecolor="black", linewidth=0.5,
                    label=s["stage"] if s["stage"] not in ax.get_legend_handles_labels()[1] else None)
            start += s["ms_mean"]
    ax.set_yticks(range(len(results)))
    ax.set_yticklabels([r["system"] for r in results])
    ax.invert_yaxis()
    ax.set_xlabel("mean milliseconds per request (each stage starts where the previous ends)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Per-stage latency")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _docs(r: dict) -> int:
    return sum(t["n"] for t in r["tasks"].values())


def write_report(out: Path) -> Path:
    results = load_results(out)
    accuracy_chart(results, out / "accuracy.png")
    latency_chart(results, out / "latency.png")
    lines = ["# fslm eval report", "",
             "Accuracy with 95% intervals: the Wilson score interval over the documents (k correct of n); lm-eval's own "
             "standard error is listed beside it (its normal interval is mean ± 1.96·stderr). Log-likelihood tasks are "
             "scored by acc (the most likely choice) and acc_norm (log-likelihood per character of the choice), as lm-eval "
             "defines them.", "", "## Systems", "",
             "| system | kind | target | parameters | models (stage: model, parameters) | documents | wall time (s) | s per document |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        models = "; ".join(f"{m['stage']}: {m['model']} ({_params(m['parameters'])})" for m in r["models"])
        docs = _docs(r)
        lines.append(f"| {r['system']} | {r['kind']} | `{r['target']}` | {_params(r['parameters'])} | {models} | {docs} | "
                     f"{r['wall_s']:.1f} | {_fmt(r['wall_s'] / docs if docs else None, 2)} |")
    lines += ["", "## Accuracy", "", "| task | metric | system | value | 95% interval (Wilson) | lm-eval stderr | n |", "|---|---|---|---|---|---|---|"]
    for task in sorted({t for r in results for t in r["tasks"]}):
        for r in results:
            if task not in r["tasks"]:
                continue
            for name, m in r["tasks"][task]["metrics"].items():
                low, high = m["interval95"]
                interval = "–" if low is None else f"[{low:.3f}, {high:.3f}]"
                lines.append(f"| {task} | {name} | {r['system']} | {_fmt(m['value'])} | {interval} | {_fmt(m['stderr'])} | {m['n']} |")
    lines += ["", "![accuracy by system](accuracy.png)", "", "## Cost per stage", "",
              "Means per request answered (a multiple-choice document is one request: its choices are scored together). "
              "Milliseconds are the stages' own timings; the request column is the client's clock.", "",
              "| system | stage | calls | prompt tokens | completion tokens | ms |", "|---|---|---|---|---|---|"]
    for r in results:
        cost = r["cost"]
        for s in cost["stages"]:
            lines.append(f"| {r['system']} | {s['stage']} | {s['calls']} | {s['prompt_tokens_mean']:.1f} | "
                         f"{s['completion_tokens_mean']:.1f} | {s['ms_mean']:.1f} |")
        if cost["requests"]:
            lines.append(f"| {r['system']} | **request** | {cost['requests']} ({cost['cached']} from the cache) | | | "
                         f"{cost['request_ms_mean']:.1f} (p50 {cost['request_ms_p50']:.1f}) |")
        else:
            lines.append(f"| {r['system']} | whole run | | | | {1000 * r['wall_s'] / max(1, _docs(r)):.1f} per document |")
    lines += ["", "![per-stage latency](latency.png)", ""]
    pairs = []
    for task in sorted({t for r in results for t in r["tasks"]}):
        having = [r for r in results if task in r["tasks"]]
        for i, first in enumerate(having):
            for second in having[i + 1:]:
                for metric in first["tasks"][task]["metrics"]:
                    if metric in second["tasks"][task]["metrics"] and (p := paired(out, first["system"], second["system"], task, metric)):
                        pairs.append((task, metric, first["system"], second["system"], p))
    if pairs:
        lines += ["## Paired differences", "",
                  "Two systems on the documents both answered: how many only the first got right, how many only the second, "
                  "the difference in accuracy on those documents, and McNemar's exact two-sided p-value (a small p: the "
                  "difference is unlikely under no difference).", "",
                  "| task | metric | first | second | n | only first | only second | difference | p |", "|---|---|---|---|---|---|---|---|---|"]
        for task, metric, first, second, p in pairs:
            lines.append(f"| {task} | {metric} | {first} | {second} | {p['n']} | {p['first_only']} | {p['second_only']} | "
                         f"{p['difference']:+.3f} | {p['p']:.3g} |")
        lines.append("")
    chains = [(r["system"], c) for r in results for task in sorted(r["tasks"]) if (c := chain_analysis(out, r["system"], task))]
    if chains:
        width = max(len(c["stages"]) for _, c in chains)
        lines += ["## Where wrong answers start", "",
                  "For each stage of a stack, the share of documents whose text already holds the right answer, by the "
                  "task's rule (below), and of the documents the stack got wrong, how many had the answer at an earlier "
                  "stage and lost it, and how many never had it.", "",
                  *[f"- {task}: {rule}" for task, rule in sorted({(c['task'], c['rule']) for _, c in chains})], "",
                  "| system | task | " + " | ".join(f"stage {i + 1}" for i in range(width)) + " | wrong | lost later | never had it |",
                  "|---|---|" + "---|" * (width + 3)]
        for system, c in chains:
            cells = [f"{s['stage']}: {s['holds_answer']:.2f}" for s in c["stages"]] + [""] * (width - len(c["stages"]))
            lines.append(f"| {system} | {c['task']} | " + " | ".join(cells) + f" | {c['wrong']} of {c['documents']} | "
                         f"{c['wrong_but_an_earlier_stage_had_it']} | {c['wrong_and_no_stage_had_it']} |")
        lines.append("")
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

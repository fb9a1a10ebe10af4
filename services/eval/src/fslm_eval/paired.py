"""Paired comparison of two systems on the same documents of a task: every system answers the same
items, so the difference between two of them is judged on the documents where they disagree (b: the
first is right and the second wrong; c: the reverse) by McNemar's exact test (McNemar 1947; the exact
binomial form: under "no difference" each disagreement goes either way with probability 1/2, and the
two-sided p-value is min(1, 2·P(X <= min(b, c))) for X ~ Binomial(b + c, 1/2)). Paired, it separates
systems that independent intervals over the same n cannot."""

from __future__ import annotations

from math import comb
from pathlib import Path

from .chain import read_jsonl


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact p-value for b and c discordant pairs (1.0 when there are none)."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(comb(n, i) for i in range(min(b, c) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def _scores(out: Path, system: str, task: str, metric: str) -> dict[int, bool]:
    rows = read_jsonl(out / "samples" / system / f"{task}.jsonl")
    return {r["doc_id"]: bool(r[metric]) for r in rows if metric in r}


def paired(out: Path, first: str, second: str, task: str, metric: str) -> dict | None:
    """{"n", "first_only", "second_only", "difference", "p"} over the documents both systems answered
    (difference: first's accuracy minus second's on them); None when they share no document."""
    a, b = _scores(out, first, task, metric), _scores(out, second, task, metric)
    common = sorted(set(a) & set(b))
    if not common:
        return None
    first_only = sum(1 for d in common if a[d] and not b[d])
    second_only = sum(1 for d in common if b[d] and not a[d])
    return {"n": len(common), "first_only": first_only, "second_only": second_only,
            "difference": (first_only - second_only) / len(common), "p": mcnemar_exact(first_only, second_only)}

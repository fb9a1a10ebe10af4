"""Tasks as lm-eval task configurations over local JSONL.

- Task YAML files (lm-eval's format; `!function` refers to Python beside the file). Their
  `dataset_kwargs.data_files` may be relative: they are read relative to the YAML file. The held-out
  sets under evals/tasks/ are such files.
- JSONL a user brings in the lm-eval / tinyBenchmarks shape, one multiple-choice document per line,
  its shape told by its first row:
    arc:     {"question", "choices": {"text": [...], "label": [...]}, "answerKey"}   (tinyArc, ARC)
    mmlu:    {"question", "choices": [...], "answer": <index>[, "input_formatted"]}  (tinyMMLU, MMLU)
    generic: {"query", "choices": [...], "gold": <index>}                             (lm-eval's processed docs)
  scored by acc and acc_norm as lm-eval defines them (the most likely choice by log-likelihood, and
  by log-likelihood per character of the choice).
"""

from __future__ import annotations

import json
from pathlib import Path

from lm_eval.tasks._yaml_loader import load_yaml

from .paths import HELD_OUT_TASKS

MC_METRICS = [{"metric": "acc", "aggregation": "mean", "higher_is_better": True},
              {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True}]
LETTERS = "ABCDEFGHIJ"


class TaskError(ValueError):
    """A task file or JSONL that cannot be used, with what is wrong."""


def load_task_yaml(path: Path) -> dict:
    """A task config from a YAML file, with data files made absolute relative to the file."""
    if not path.is_file():
        raise TaskError(f"task file {path} does not exist")
    cfg = load_yaml(path)
    if "task" not in cfg:
        raise TaskError(f"{path}: an lm-eval task config needs a `task` name")
    files = (cfg.get("dataset_kwargs") or {}).get("data_files")
    if isinstance(files, dict):
        for split, name in files.items():
            resolved = (path.parent / name).resolve() if not Path(name).is_absolute() else Path(name)
            if not resolved.is_file():
                raise TaskError(f"{path}: data file {name} ({resolved}) does not exist")
            files[split] = str(resolved)
    return cfg


def held_out(names: list[str] | None = None, folder: Path = HELD_OUT_TASKS) -> list[dict]:
    """The held-out task configs (evals/tasks/*.yaml), all or the named ones."""
    available = {p.stem: p for p in sorted(folder.glob("*.yaml"))}
    if not available:
        raise TaskError(f"no task YAML files in {folder}")
    unknown = [n for n in names or [] if n not in available]
    if unknown:
        raise TaskError(f"unknown task(s) {unknown}; {folder} has {sorted(available)}")
    return [load_task_yaml(available[n]) for n in (names or list(available))]


def _shape(row: dict) -> str:
    choices = row.get("choices")
    if isinstance(choices, dict) and "text" in choices and "label" in choices and "answerKey" in row:
        return "arc"
    if isinstance(choices, list) and isinstance(row.get("answer"), int) and "question" in row:
        return "mmlu"
    if isinstance(choices, list) and isinstance(row.get("gold"), int) and "query" in row:
        return "generic"
    raise TaskError("the first row is none of the known shapes (arc: question, choices{text,label}, answerKey; "
                    "mmlu: question, choices[], answer; generic: query, choices[], gold)")


def jsonl_task(name: str, path: Path) -> dict:
    """A multiple-choice task over a user's JSONL in the lm-eval / tinyBenchmarks shape."""
    if not path.is_file():
        raise TaskError(f"{path} does not exist")
    first = path.read_text(encoding="utf-8").splitlines()[:1]
    if not first:
        raise TaskError(f"{path} is empty")
    try:
        row = json.loads(first[0])
    except json.JSONDecodeError as e:
        raise TaskError(f"{path}: line 1 is not JSON ({e})") from None
    try:
        shape = _shape(row)
    except TaskError as e:
        raise TaskError(f"{path}: {e}") from None
    cfg = {"task": name, "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(path.resolve())}},
           "test_split": "test", "output_type": "multiple_choice", "metric_list": MC_METRICS,
           "metadata": {"version": 1.0, "shape": shape, "source": str(path)}}
    if shape == "arc":
        cfg |= {"doc_to_text": "Question: {{question}}\nAnswer:", "doc_to_choice": "{{choices.text}}",
                "doc_to_target": "{{choices.label.index(answerKey)}}"}
    elif shape == "mmlu":
        listed = "{% for c in choices %}" + "\n{{ 'ABCDEFGHIJ'[loop.index0] }}. {{ c }}{% endfor %}"
        text = "{{input_formatted}}" if "input_formatted" in row else "{{question.strip()}}" + listed + "\nAnswer:"
        cfg |= {"doc_to_text": text, "doc_to_choice": [LETTERS[i] for i in range(len(row["choices"]))], "doc_to_target": "answer"}
    else:
        cfg |= {"doc_to_text": "{{query}}", "doc_to_choice": "{{choices}}", "doc_to_target": "gold"}
    return cfg

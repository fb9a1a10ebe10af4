"""One stage's training rows, checked without loading torch (bad data fails in well under a second), each
resolved to the chat messages the stage will be asked when it serves:

- with a stack stage (--stack FILE --stage NAME): the stage's system prompt and its template, rendered
  by stackdef.py exactly as the router renders it (a conformance test holds the two together token for
  token). A row gives the template's values, `input` and `stages` ({"<earlier stage>": text}); a row
  that gives a rendered `prompt` instead is taken as the user turn, and must agree with the stage: a
  `system` that differs from the stage's, or a `prompt` that differs from rendering its `input` and
  `stages`, is refused (it was written for another prompt than the stage serves);
- without one: a row's `prompt` is the user turn and its `system` is the system prompt. `system` is
  required ("" for none): left out, the model's chat template would silently put in its own default
  system prompt, which the stage serves only if its stack also has none.
"""

from __future__ import annotations

from pathlib import Path

from .exitcodes import BadInput
from .jsonl import MAX_PROBLEMS_SHOWN, read_rows, require_fields
from .stackdef import Stage


def _messages(system: str, prompt: str) -> list[dict]:
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]


def _resolve(n: int, row: dict, stage: Stage | None) -> list[dict] | str:
    """The row's messages, or the problem with it."""
    values = row.get("input")
    if values is not None and not isinstance(values, str):
        return f"line {n}: field 'input' must be a string"
    texts = row.get("stages") or {}
    if not isinstance(texts, dict) or not all(isinstance(v, str) for v in texts.values()):
        return f"line {n}: field 'stages' must map stage names to texts"
    if stage is None:
        if not isinstance(row.get("prompt"), str):
            return f"line {n}: no 'prompt' (rows with 'input' and 'stages' are rendered from a stack: pass --stack and --stage)"
        if "system" not in row:
            return (f"line {n}: no 'system': write the stage's system prompt (\"system\": \"\" for none, and the model's chat "
                    "template then puts in its own default), or pass --stack and --stage to take it from the stack")
        return _messages(row["system"] or "", row["prompt"])
    if "system" in row and (row["system"] or "") != stage.system:
        return f"line {n}: 'system' is not stage {stage.name}'s system prompt {stage.system!r}"
    rendered = None
    if values is not None:
        missing = sorted({p.text for p in stage.parts if p.kind == "stage"} - set(texts))
        if missing:
            return f"line {n}: 'stages' lacks the text of {', '.join(missing)}, which stage {stage.name}'s template uses"
        rendered = stage.render(values, texts)
    prompt = row.get("prompt")
    if isinstance(prompt, str) and rendered is not None and prompt != rendered:
        return f"line {n}: 'prompt' is not what stage {stage.name}'s template renders from the row's 'input' and 'stages'"
    if rendered is None and not isinstance(prompt, str):
        return f"line {n}: give 'input' (and 'stages') or a rendered 'prompt'"
    return _messages(stage.system, rendered if rendered is not None else prompt)


def load_rows(path: Path, stage_name: str, stage: Stage | None = None) -> list[dict]:
    """Rows with "messages" (what the stage is asked) and "completion"; BadInput lists the first problems."""
    rows = read_rows(path, "training data")
    require_fields(rows, "training data", path, {"completion": True}, optional=("system", "stage", "prompt"))
    if stage_name:
        wrong = [(n, r["stage"]) for n, r in rows if r.get("stage") not in (None, "", stage_name)]
        if wrong:
            n, other = wrong[0]
            raise BadInput(f"training data {path}: line {n} is for stage {other!r}, not {stage_name!r} "
                           f"({len(wrong)} such rows)")
    out, problems = [], []
    for n, row in rows:
        messages = _resolve(n, row, stage)
        if isinstance(messages, str):
            problems.append(messages)
        else:
            out.append({**row, "messages": messages})
    if problems:
        raise BadInput(f"training data {path}: {len(problems)} problem(s): " + "; ".join(problems[:MAX_PROBLEMS_SHOWN])
                       + ("; ..." if len(problems) > MAX_PROBLEMS_SHOWN else ""))
    return out

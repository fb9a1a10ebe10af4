"""distill: Alpaca-shaped rows (instruction, input, output) -> one JSONL per stage of a stack, each
stage's text written by a teacher in turn (a later stage's prompt holds the earlier stages' texts).

Every finished source row (kept or skipped) is appended to journal.jsonl as soon as it is done, so a
rerun skips it; the per-stage files are rebuilt from the journal at the end, in source order, one row
per source row. Rows whose teacher text is empty, degenerate or fails the row's known-answer check
are skipped with the reason, or take the row's reference text (`fslm_reference`) with
`--on-invalid reference`.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from .config import DistillConfig
from .distill_output import Summary, materialize
from .exitcodes import BadInput, Unavailable
from .jsonl import Journal, read_journal, read_rows, require_fields
from .log import log
from .progressbar import Bar
from .quality import degenerate, failed_check
from .stackdef import Stack, load_stack
from .teacher import ReferenceTeacher, TeacherRejected, TeacherUnavailable, make_teacher
from .tracing import Tracer, context_from
from .uri import input_file, local_path

JOURNAL = "journal.jsonl"


@dataclass(frozen=True)
class Source:
    line: int
    key: str
    input: str
    row: dict


def stack_input(row: dict) -> str:
    """The stack's {input}: the instruction, and the row's input below it when there is one."""
    extra = (row.get("input") or "").strip()
    return row["instruction"].strip() + (f"\n\n{extra}" if extra else "")


def load_sources(path: Path) -> list[Source]:
    rows = read_rows(path, "instruction data")
    require_fields(rows, "instruction data", path, {"instruction": True}, optional=("input", "output"))
    seen: dict[str, int] = {}
    out = []
    for line, row in rows:
        digest = hashlib.sha256(repr((row["instruction"], row.get("input") or "", row.get("output") or "")).encode())
        key = digest.hexdigest()[:16]
        seen[key] = seen.get(key, 0) + 1
        out.append(Source(line, key if seen[key] == 1 else f"{key}#{seen[key]}", stack_input(row), row))
    return out


def _reference(row: dict, stage: str, last: str) -> str:
    refs = row.get("fslm_reference") or {}
    ref = refs.get(stage) or (refs.get("@last") if stage == last else None)
    if ref is None and stage == last and row.get("fslm_reference_output"):
        ref = row.get("output")
    return ref.strip() if isinstance(ref, str) else ""


def distill_row(src: Source, stack: Stack, teacher, mode: str, on_invalid: str) -> dict:
    last = stack.stages[-1].name
    texts: dict[str, str] = {}
    stages: dict[str, dict] = {}
    base = {"key": src.key, "line": src.line}
    try:
        replies = teacher.stack_texts(src.input) if mode == "stack" else None
        for stage in stack.stages:
            messages = stage.messages(src.input, texts)
            prompt = messages[-1]["content"]
            if isinstance(teacher, ReferenceTeacher):
                reply = teacher.text(src.row, stage.name, last)
                if reply is None:
                    return {**base, "status": "skipped", "reason": "no_reference", "stage": stage.name}
            else:
                reply = replies.get(stage.name) if replies is not None else teacher.chat(stage, messages)
            if reply is None:
                return {**base, "status": "skipped", "reason": "teacher_missing_stage", "stage": stage.name}
            text, author = reply.text.strip(), "teacher"
            reason = degenerate(text, prompt) or failed_check(src.row, stage.name, last, text)
            if reason and isinstance(teacher, ReferenceTeacher):  # a reference that fails its own check
                return {**base, "status": "skipped", "reason": reason, "stage": stage.name, "text": text[:200]}
            if reason:
                ref = _reference(src.row, stage.name, last) if on_invalid == "reference" else ""
                if not ref:
                    return {**base, "status": "skipped", "reason": reason, "stage": stage.name, "text": text[:200]}
                text, author = ref, "reference"
            used = {p.text: texts[p.text] for p in stage.parts if p.kind == "stage"}
            texts[stage.name] = text
            stages[stage.name] = {"system": stage.system, "prompt": prompt, "input": src.input, "stages": used,
                                  "completion": text, "author": author, "rejected": reason, "finish_reason": reply.finish_reason}
    except TeacherRejected as e:
        return {**base, "status": "skipped", "reason": "teacher_rejected", "detail": str(e)[:300]}
    return {**base, "status": "ok", "stages": stages, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def distill(cfg: DistillConfig) -> dict:
    if cfg.on_invalid not in ("reject", "reference"):
        raise BadInput(f"--on-invalid must be reject or reference, got {cfg.on_invalid!r}")
    if cfg.concurrency < 1:
        raise BadInput(f"concurrency must be at least 1, got {cfg.concurrency}")
    stack = load_stack(local_path(cfg.stack, "stack"))
    data = input_file(cfg.data, "instruction data")
    sources = load_sources(data)
    if cfg.limit:
        sources = sources[:cfg.limit]
    out = local_path(cfg.out, "output directory").resolve()
    out.mkdir(parents=True, exist_ok=True)
    tracer = Tracer(context_from(cfg.traceparent), attributes={"fslm.stack": stack.name})
    teacher = make_teacher(cfg.teacher, tracer)
    try:
        with tracer.span("fslm.trainer.distill", **{"fslm.stack": stack.name, "fslm.rows": len(sources)}):
            teacher.check(stack)
            return _run(cfg, stack, sources, data, out, teacher, tracer)
    finally:
        tracer.flush()


def _run(cfg, stack, sources, data, out, teacher, tracer) -> dict:
    journal_path = out / JOURNAL
    finished = {r["key"]: r for r in read_journal(journal_path)}
    done = {k for k, r in finished.items() if r.get("status") == "ok" or not cfg.retry_rejected}
    todo = [s for s in sources if s.key not in done]
    summary = Summary(rows=len(sources), already_done=len(sources) - len(todo))
    log(f"{len(sources)} rows: {summary.already_done} already done, {len(todo)} to distil with {teacher.name}")
    journal = Journal(journal_path)
    bar = Bar(len(sources), summary.already_done)
    unavailable: str | None = None
    t0 = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=cfg.concurrency) as pool:
            pending: set[Future] = set()
            queue = iter(todo)
            while True:
                while unavailable is None and len(pending) < cfg.concurrency:
                    src = next(queue, None)
                    if src is None:
                        break
                    pending.add(pool.submit(distill_row, src, stack, teacher, cfg.teacher.mode, cfg.on_invalid))
                if not pending:
                    break
                finished_now, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished_now:
                    try:
                        record = fut.result()
                    except TeacherUnavailable as e:
                        unavailable = str(e)
                        summary.failed += 1
                        continue
                    journal.append(record)
                    summary.count(record)
                bar.update(summary)
    finally:
        journal.close()
        bar.close()
        summary.elapsed_s = round(time.monotonic() - t0, 3)
        result = materialize(out, stack, sources, data, teacher.name, tracer.ctx.trace_id, summary)
    if unavailable:
        raise Unavailable(f"teacher unreachable, stopped after {summary.new} new rows ({unavailable}); "
                          "rerun to resume")
    return result

"""W3C trace context for the trainer: TRACEPARENT joins the job to the run's trace.

The trace id goes into progress lines and fslm.json; HTTP calls (the teacher) carry a `traceparent`
header whose parent is this job's span. When OTEL_EXPORTER_OTLP_ENDPOINT is set, the job's spans are
also sent as OTLP/HTTP JSON (no OpenTelemetry package needed); without it, nothing is sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Iterator

from .log import log

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    parent_span_id: str | None  # the caller's span (None: this job started the trace)
    sampled: bool = True

    def child_header(self, span_id: str | None = None) -> str:
        """A traceparent for an outgoing call made within `span_id` (default: a fresh span)."""
        return f"00-{self.trace_id}-{span_id or new_span_id()}-{'01' if self.sampled else '00'}"


def new_span_id() -> str:
    return secrets.token_hex(8)


def parse_traceparent(value: str | None) -> TraceContext | None:
    """The context of a valid W3C traceparent; None for an empty or invalid one (W3C: ignore it)."""
    if not value:
        return None
    m = _TRACEPARENT.match(value.strip().lower())
    if not m:
        return None
    version, trace_id, span_id, flags, rest = m.groups()
    if version == "ff" or (version == "00" and rest) or set(trace_id) == {"0"} or set(span_id) == {"0"}:
        return None
    return TraceContext(trace_id, span_id, bool(int(flags, 16) & 1))


def context_from(traceparent: str) -> TraceContext:
    """The job's trace context: TRACEPARENT's when valid (a warning otherwise), else a new trace."""
    ctx = parse_traceparent(traceparent)
    if ctx is None:
        if traceparent:
            log(f"warning: ignoring invalid TRACEPARENT {traceparent!r}; starting a new trace")
        ctx = TraceContext(secrets.token_hex(16), None)
    return ctx


@dataclass
class Tracer:
    """Records spans of one command and sends them once, at the end, when an OTLP endpoint is set."""

    ctx: TraceContext
    service: str = "fslm-trainer"
    attributes: dict = field(default_factory=dict)
    spans: list = field(default_factory=list)
    _stack: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def current_span_id(self) -> str | None:
        return self._stack[-1] if self._stack else self.ctx.parent_span_id

    def header(self) -> str:
        """traceparent for an outgoing call: a child of the innermost open span."""
        return self.ctx.child_header(self._stack[-1] if self._stack else None)

    @contextlib.contextmanager
    def span(self, name: str, **attributes) -> Iterator[str]:
        span_id = new_span_id()
        parent = self.current_span_id
        self._stack.append(span_id)
        start = time.time_ns()
        status = {"code": 1}
        try:
            yield span_id
        except BaseException as e:
            status = {"code": 2, "message": str(e)[:200]}
            raise
        finally:
            self._stack.pop()
            with self._lock:
                self.spans.append({
                    "traceId": self.ctx.trace_id, "spanId": span_id, "parentSpanId": parent or "",
                    "name": name, "kind": 1, "startTimeUnixNano": str(start), "endTimeUnixNano": str(time.time_ns()),
                    "attributes": _attrs(attributes), "status": status,
                })

    def flush(self) -> None:
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or (
            os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").rstrip("/") + "/v1/traces"
            if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") else "")
        if not endpoint or not self.spans or not self.ctx.sampled:
            return
        body = {"resourceSpans": [{
            "resource": {"attributes": _attrs({"service.name": os.environ.get("OTEL_SERVICE_NAME", self.service),
                                               **self.attributes})},
            "scopeSpans": [{"scope": {"name": "fslm_trainer"}, "spans": self.spans}],
        }]}
        req = urllib.request.Request(endpoint, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=5).read()
        except Exception as e:  # telemetry never fails a job
            log(f"warning: could not send {len(self.spans)} spans to {endpoint}: {e}")


def _attrs(values: dict) -> list[dict]:
    out = []
    for k, v in values.items():
        if v is None:
            continue
        if isinstance(v, bool):
            val = {"boolValue": v}
        elif isinstance(v, int):
            val = {"intValue": str(v)}
        elif isinstance(v, float):
            val = {"doubleValue": v}
        else:
            val = {"stringValue": str(v)}
        out.append({"key": k, "value": val})
    return out

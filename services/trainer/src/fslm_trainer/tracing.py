"""W3C trace context and spans for the trainer, on the OpenTelemetry SDK.

TRACEPARENT joins the job to the run's trace: its trace id goes into progress lines and fslm.json,
and the job's spans are children of the span it names. HTTP calls (the teacher) carry a
`traceparent` whose parent is the innermost open span. When OTEL_EXPORTER_OTLP_ENDPOINT (or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, the spans are exported over OTLP/HTTP at the end of
the command; without it, nothing is sent.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from typing import Iterator

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .log import log

_PROPAGATOR = TraceContextTextMapPropagator()


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    parent_span_id: str | None  # the caller's span (None: this job started the trace)
    sampled: bool = True


def parse_traceparent(value: str | None) -> TraceContext | None:
    """The context of a valid W3C traceparent; None for an empty or invalid one (W3C: ignore it)."""
    if not value:
        return None
    span = trace.get_current_span(_PROPAGATOR.extract({"traceparent": value.strip()}))
    sc = span.get_span_context()
    if not sc.is_valid:
        return None
    return TraceContext(trace.format_trace_id(sc.trace_id), trace.format_span_id(sc.span_id), sc.trace_flags.sampled)


def context_from(traceparent: str) -> TraceContext:
    """The job's trace context: TRACEPARENT's when valid (a warning otherwise), else a new trace."""
    ctx = parse_traceparent(traceparent)
    if ctx is None:
        if traceparent:
            log(f"warning: ignoring invalid TRACEPARENT {traceparent!r}; starting a new trace")
        ctx = TraceContext(secrets.token_hex(16), None)
    return ctx


class _JobTraceIds(RandomIdGenerator):
    """Root spans of the job use its trace id (a new trace's id is chosen before any span starts)."""

    def __init__(self, trace_id: str):
        self._trace_id = int(trace_id, 16)

    def generate_trace_id(self) -> int:
        return self._trace_id


def _otlp_endpoint() -> str:
    traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").rstrip("/")
    return traces or (f"{base}/v1/traces" if base else "")


class Tracer:
    """The spans of one command, exported when it flushes (OTLP/HTTP when configured, or `exporter`)."""

    def __init__(self, ctx: TraceContext, service: str = "fslm-trainer", attributes: dict | None = None,
                 exporter: SpanExporter | None = None):
        self.ctx = ctx
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service),
                                    **{k: v for k, v in (attributes or {}).items() if v is not None}})
        self._provider = TracerProvider(resource=resource, id_generator=_JobTraceIds(ctx.trace_id))
        if exporter is None and _otlp_endpoint():
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            exporter = OTLPSpanExporter(endpoint=_otlp_endpoint(), timeout=5)
        if exporter is not None:
            # Exported in the background and at flush(), never in the way of a training step.
            self._provider.add_span_processor(BatchSpanProcessor(exporter))
        self._tracer = self._provider.get_tracer("fslm_trainer")
        self._open: list[trace.Span] = []
        parent = trace.NonRecordingSpan(trace.SpanContext(
            int(ctx.trace_id, 16), int(ctx.parent_span_id, 16), is_remote=True,
            trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED if ctx.sampled else trace.TraceFlags.DEFAULT),
        )) if ctx.parent_span_id else None
        self._remote = trace.set_span_in_context(parent) if parent else None

    def _parent_context(self):
        return trace.set_span_in_context(self._open[-1]) if self._open else self._remote

    def header(self) -> str:
        """traceparent for an outgoing call: a child of the innermost open span (else of the job's parent)."""
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier, context=self._parent_context())
        return carrier.get("traceparent") or f"00-{self.ctx.trace_id}-{secrets.token_hex(8)}-{'01' if self.ctx.sampled else '00'}"

    @contextlib.contextmanager
    def span(self, name: str, **attributes) -> Iterator[str]:
        attrs = {k: v for k, v in attributes.items() if v is not None}
        span = self._tracer.start_span(name, context=self._parent_context(), attributes=attrs)
        self._open.append(span)
        try:
            with trace.use_span(span, end_on_exit=True, record_exception=True, set_status_on_exception=True):
                yield trace.format_span_id(span.get_span_context().span_id)
        finally:
            self._open.remove(span)

    def flush(self) -> None:
        """Sends what is left and stops; telemetry never fails a job."""
        try:
            self._provider.shutdown()
        except Exception as e:  # noqa: BLE001 - an exporter error must not fail the command
            log(f"warning: could not send spans: {e}")

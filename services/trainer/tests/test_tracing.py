"""TRACEPARENT parsing follows W3C trace context: valid ones join the trace, invalid ones are ignored."""

from __future__ import annotations

from fslm_trainer.tracing import Tracer, context_from, parse_traceparent


def test_a_valid_traceparent_gives_its_trace_and_parent_span():
    ctx = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    assert ctx.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736" and ctx.parent_span_id == "00f067aa0ba902b7"
    assert ctx.sampled


def test_invalid_traceparents_are_ignored():
    for bad in ["", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"]:
        assert parse_traceparent(bad) is None, bad


def test_without_a_valid_traceparent_a_new_trace_starts():
    ctx = context_from("nonsense")
    assert len(ctx.trace_id) == 32 and ctx.parent_span_id is None


def test_outgoing_calls_are_children_of_the_innermost_span():
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exported = InMemorySpanExporter()
    tracer = Tracer(context_from("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), exporter=exported)
    with tracer.span("outer") as outer:
        assert tracer.header() == f"00-4bf92f3577b34da6a3ce929d0e0e4736-{outer}-01"
        with tracer.span("inner") as inner:
            assert tracer.header() == f"00-4bf92f3577b34da6a3ce929d0e0e4736-{inner}-01"
    assert tracer.header() == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    tracer.flush()
    spans = {s.name: s for s in exported.get_finished_spans()}
    assert format(spans["outer"].parent.span_id, "016x") == "00f067aa0ba902b7"
    assert spans["inner"].parent.span_id == spans["outer"].context.span_id


def test_an_unsampled_parent_is_followed_and_nothing_is_recorded():
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exported = InMemorySpanExporter()
    tracer = Tracer(context_from("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"), exporter=exported)
    with tracer.span("outer") as outer:
        assert tracer.header() == f"00-4bf92f3577b34da6a3ce929d0e0e4736-{outer}-00"
    tracer.flush()
    assert exported.get_finished_spans() == ()


def test_a_new_trace_keeps_the_trace_id_the_job_reports():
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exported = InMemorySpanExporter()
    tracer = Tracer(context_from(""), exporter=exported)
    with tracer.span("root"):
        pass
    tracer.flush()
    (span,) = exported.get_finished_spans()
    assert format(span.context.trace_id, "032x") == tracer.ctx.trace_id and span.parent is None


def test_a_failing_span_is_recorded_as_an_error():
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode

    exported = InMemorySpanExporter()
    tracer = Tracer(context_from(""), exporter=exported)
    try:
        with tracer.span("boom"):
            raise ValueError("bad row")
    except ValueError:
        pass
    tracer.flush()
    (span,) = exported.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR and "bad row" in span.status.description


def test_spans_go_to_an_otlp_http_endpoint_when_one_is_configured(monkeypatch):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    received = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            request = ExportTraceServiceRequest()
            request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.path, self.headers["Content-Type"], request))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    tracer = Tracer(context_from("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), attributes={"fslm.stage": "final"})
    with tracer.span("fslm.trainer.finetune", **{"fslm.max_steps": 3}):
        with tracer.span("fslm.trainer.train"):
            pass
    tracer.flush()
    server.shutdown()
    path, ctype, request = received[0]
    assert path == "/v1/traces" and ctype == "application/x-protobuf"
    resource_spans = request.resource_spans[0]
    spans = {s.name: s for s in resource_spans.scope_spans[0].spans}
    assert spans["fslm.trainer.finetune"].parent_span_id.hex() == "00f067aa0ba902b7"
    assert spans["fslm.trainer.train"].parent_span_id == spans["fslm.trainer.finetune"].span_id
    assert {s.trace_id.hex() for s in spans.values()} == {"4bf92f3577b34da6a3ce929d0e0e4736"}
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "fslm-trainer" and resource["fslm.stage"] == "final"

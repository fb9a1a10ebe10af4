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
    tracer = Tracer(context_from("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))
    with tracer.span("outer") as outer:
        header = tracer.header()
        assert header == f"00-4bf92f3577b34da6a3ce929d0e0e4736-{outer}-00"
    assert tracer.spans[0]["parentSpanId"] == "00f067aa0ba902b7"


def test_spans_go_to_an_otlp_http_endpoint_as_json_when_one_is_configured(monkeypatch):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            received.append((self.path, self.headers["Content-Type"],
                             json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    tracer = Tracer(context_from("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), attributes={"fslm.stage": "final"})
    with tracer.span("fslm.trainer.finetune", **{"fslm.max_steps": 3}):
        with tracer.span("fslm.trainer.train"):
            pass
    tracer.flush()
    server.shutdown()
    path, ctype, body = received[0]
    assert path == "/v1/traces" and ctype == "application/json"
    spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"]
    by_name = {s["name"]: s for s in spans}
    assert by_name["fslm.trainer.finetune"]["parentSpanId"] == "00f067aa0ba902b7"
    assert by_name["fslm.trainer.train"]["parentSpanId"] == by_name["fslm.trainer.finetune"]["spanId"]
    assert {s["traceId"] for s in spans} == {"4bf92f3577b34da6a3ce929d0e0e4736"}
    resource = {a["key"]: a["value"] for a in body["resourceSpans"][0]["resource"]["attributes"]}
    assert resource["service.name"] == {"stringValue": "fslm-trainer"}

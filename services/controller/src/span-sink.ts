// Exports the spans the reconciler decided on, with their recorded start and end times and the ids
// derived from the run (trace-context.ts), so a span looks the same whichever replica exports it.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import type { SpanRecord } from './run-spans.ts';
import type { PresetIdGenerator } from './telemetry.ts';

export interface SpanSink {
  export(spans: readonly SpanRecord[]): void;
}

export const noopSpanSink: SpanSink = { export() {} };

export class TracerSpanSink implements SpanSink {
  constructor(private readonly tracer: Tracer, private readonly ids: PresetIdGenerator) {}

  export(spans: readonly SpanRecord[]): void {
    for (const s of spans) {
      const parent = s.parentSpanId
        ? trace.setSpanContext(ROOT_CONTEXT, { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true })
        : ROOT_CONTEXT;
      // startSpan is synchronous, so the preset ids go to exactly this span.
      this.ids.preset({ traceId: s.traceId, spanId: s.spanId });
      const span = this.tracer.startSpan(s.stage ? `stage ${s.stage}` : 'training run', {
        kind: SpanKind.INTERNAL, startTime: s.start, attributes: s.attributes, root: !s.parentSpanId,
      }, parent);
      this.ids.preset({});
      span.setStatus({ code: s.ok ? SpanStatusCode.OK : SpanStatusCode.ERROR });
      span.end(s.end);
    }
  }
}

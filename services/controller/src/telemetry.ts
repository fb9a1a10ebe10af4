// OpenTelemetry for the controller: a tracer provider whose spans carry ids chosen by the caller (so a
// stage span's id is the parent in the trainer's TRACEPARENT, whichever replica exports it), exported
// over OTLP/HTTP protobuf; and a meter provider read by a Prometheus scrape endpoint.
// TODO(lead): move the generic part to services/shared once other services need it.
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { BasicTracerProvider, BatchSpanProcessor, RandomIdGenerator, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { createNoopMeter, type Meter, type Tracer } from '@opentelemetry/api';

export const SERVICE_NAME = 'fslm-controller';

/** Hands out preset ids for the next span started (synchronously) after `preset()`, random ones otherwise. */
export class PresetIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private traceId: string | undefined;
  private spanId: string | undefined;

  preset(ids: { traceId?: string; spanId?: string }): void {
    this.traceId = ids.traceId;
    this.spanId = ids.spanId;
  }

  generateTraceId(): string {
    const id = this.traceId ?? this.random.generateTraceId();
    this.traceId = undefined;
    return id;
  }

  generateSpanId(): string {
    const id = this.spanId ?? this.random.generateSpanId();
    this.spanId = undefined;
    return id;
  }
}

export interface TelemetryOptions {
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces; no trace export when undefined. */
  otlpUrl?: string;
  /** Extra exporter (tests use an in-memory one). */
  spanExporter?: SpanExporter;
  /** Serve Prometheus metrics here; no metrics endpoint when undefined. */
  metrics?: { host: string; port: number };
  identity?: string;
}

export interface Telemetry {
  tracer: Tracer;
  ids: PresetIdGenerator;
  meter: Meter;
  shutdown(): Promise<void>;
}

export async function startTelemetry(opts: TelemetryOptions): Promise<Telemetry> {
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: SERVICE_NAME, 'service.instance.id': opts.identity ?? '' });
  const ids = new PresetIdGenerator();
  const exporters: SpanExporter[] = [];
  if (opts.otlpUrl) exporters.push(new OTLPTraceExporter({ url: opts.otlpUrl }));
  if (opts.spanExporter) exporters.push(opts.spanExporter);
  const tracerProvider = new BasicTracerProvider({
    resource,
    idGenerator: ids,
    spanProcessors: exporters.map((e) => new BatchSpanProcessor(e, { scheduledDelayMillis: 500 })),
  });
  let meterProvider: MeterProvider | undefined;
  let meter: Meter = createNoopMeter();
  if (opts.metrics) {
    const prometheus = new PrometheusExporter({ host: opts.metrics.host, port: opts.metrics.port, preventServerStart: true });
    await prometheus.startServer();
    meterProvider = new MeterProvider({ resource, readers: [prometheus] });
    meter = meterProvider.getMeter(SERVICE_NAME);
  }
  return {
    tracer: tracerProvider.getTracer(SERVICE_NAME),
    ids,
    meter,
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider?.shutdown();
    },
  };
}

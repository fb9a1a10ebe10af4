// The controller's telemetry: the shared OpenTelemetry setup (services/shared/telemetry.ts) with span
// ids chosen by the caller, so a stage span's id is the parent in the trainer's TRACEPARENT whichever
// replica exports it, and Prometheus metrics on their own port.
import type { Meter, Tracer } from '@opentelemetry/api';
import { RandomIdGenerator, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import { serveMetrics, startTelemetry as startSharedTelemetry } from '../../shared/telemetry.ts';

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
  /** Serve Prometheus metrics here; no metrics endpoint when undefined. */
  metrics?: { host: string; port: number };
  identity?: string;
  /** Defaults to fslm-controller. */
  serviceName?: string;
}

export interface Telemetry {
  tracer: Tracer;
  ids: PresetIdGenerator;
  meter: Meter;
  /** Where /metrics is served (the bound port, also when port 0 was asked for); undefined without metrics. */
  metricsAddress?: string;
  shutdown(): Promise<void>;
}

export async function startTelemetry(opts: TelemetryOptions): Promise<Telemetry> {
  const ids = new PresetIdGenerator();
  const shared = startSharedTelemetry({
    serviceName: opts.serviceName ?? SERVICE_NAME, serviceInstanceId: opts.identity, otlpTracesEndpoint: opts.otlpUrl, exportDelayMs: 500, idGenerator: ids,
  });
  const server = opts.metrics ? await serveMetrics(shared, opts.metrics.host, opts.metrics.port) : undefined;
  return {
    tracer: shared.tracer,
    ids,
    meter: shared.meter,
    metricsAddress: server && opts.metrics ? `${opts.metrics.host}:${server.port}` : undefined,
    async shutdown() {
      await server?.close();
      await shared.shutdown();
    },
  };
}

// One OpenTelemetry setup for the router and the stages (@opentelemetry/sdk-node): traces go to an
// OTLP endpoint when one is configured, metrics are served in the Prometheus text format by whoever
// owns an HTTP server (metricsHandler), and W3C trace context travels in NATS headers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, metrics, propagation, trace, type Context, type Meter, type Span, type Tracer } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { GrpcServerTls } from './grpc-tls.ts';
import { httpsServerOptions, reloadOnChange } from './https-tls.ts';

export {
  ATTR_GEN_AI_OPERATION_NAME, ATTR_GEN_AI_REQUEST_MAX_TOKENS, ATTR_GEN_AI_REQUEST_MODEL, ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS, ATTR_GEN_AI_RESPONSE_MODEL, ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
} from '@opentelemetry/semantic-conventions/incubating';

/** fslm's own span attributes, next to the GenAI semantic conventions. */
export const FslmAttr = {
  Stack: 'fslm.stack',
  Stage: 'fslm.stage.name',
  StageIndex: 'fslm.stage.index',
  ModelVersion: 'fslm.stage.model_version',
  TimeToFirstTokenMs: 'fslm.stage.time_to_first_token_ms',
  Attempt: 'fslm.stage.attempt',
  Replica: 'fslm.stage.replica',
  Handoff: 'fslm.stage.streamed_handoff',
  RequestId: 'fslm.request_id',
  ErrorCode: 'fslm.error.code',
  /** The weights a stage served: fp32, int8 or int4. */
  Precision: 'fslm.precision',
} as const;

export interface TelemetryOptions {
  serviceName: string;
  serviceInstanceId?: string;
  /** OTLP/HTTP traces endpoint (e.g. http://127.0.0.1:4318/v1/traces); spans are recorded but not exported when empty. */
  otlpTracesEndpoint?: string;
  /** Milliseconds between span batch exports. */
  exportDelayMs?: number;
  /** Span and trace ids (the controller presets them so a stage span keeps its id across restarts). */
  idGenerator?: IdGenerator;
}

export interface Telemetry {
  readonly tracer: Tracer;
  readonly meter: Meter;
  /** Answers a Prometheus scrape (GET /metrics). */
  metricsHandler(request: IncomingMessage, response: ServerResponse): void;
  /** Flushes spans and metrics and stops the SDK. */
  shutdown(): Promise<void>;
}

export const DEFAULT_EXPORT_DELAY_MS = 1000;

export function startTelemetry(options: TelemetryOptions): Telemetry {
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const spanProcessor = options.otlpTracesEndpoint
    ? new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpTracesEndpoint }), { scheduledDelayMillis: options.exportDelayMs ?? DEFAULT_EXPORT_DELAY_MS })
    : new NoopSpanProcessor();
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      ...(options.serviceInstanceId ? { [ATTR_SERVICE_INSTANCE_ID]: options.serviceInstanceId } : {}),
    }),
    autoDetectResources: false,
    ...(options.idGenerator ? { idGenerator: options.idGenerator } : {}),
    spanProcessors: [spanProcessor],
    metricReaders: [prometheus],
    instrumentations: [],
  });
  sdk.start();
  let stopped: Promise<void> | null = null;
  return {
    tracer: trace.getTracer('fslm'),
    // NodeSDK registers its TracerProvider and MeterProvider globally.
    meter: metrics.getMeter('fslm'),
    metricsHandler: (request, response) => prometheus.getMetricsRequestHandler(request, response),
    shutdown: () => (stopped ??= sdk.shutdown().catch(() => undefined)),
  };
}

/** Writes the active trace context into a carrier (NATS headers, via bus-codec's requestHeaders). */
export function injectContext(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context a carrier continues (the root context when it holds none). */
export function extractContext(carrier: Record<string, string>): Context {
  return propagation.extract(context.active(), carrier);
}

/** The trace id of a span, for responses and logs. */
export function traceIdOf(span: Span): string {
  return span.spanContext().traceId;
}

/**
 * Telemetry settings from the standard OpenTelemetry variables, given an environment (each service's
 * config.ts passes process.env): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT
 * plus /v1/traces; OTEL_BSP_SCHEDULE_DELAY; OTEL_SERVICE_NAME overrides the service name.
 */
export function telemetryFromEnv(env: Record<string, string | undefined>, serviceName: string): TelemetryOptions {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, '');
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (base ? `${base}/v1/traces` : undefined);
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  return {
    serviceName: env.OTEL_SERVICE_NAME || serviceName,
    otlpTracesEndpoint: endpoint,
    exportDelayMs: Number.isFinite(delay) && delay > 0 ? delay : undefined,
  };
}

/**
 * Serves GET /metrics on its own port (for processes without an HTTP server of their own); resolves to the
 * bound port. With `tls` it is HTTPS (see below); rejects when the port cannot be bound.
 */
export async function serveMetrics(telemetry: Telemetry, host: string, port: number, tls?: GrpcServerTls): Promise<{ port: number; close(): Promise<void> }> {
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET' && request.url?.split('?')[0] === '/metrics') telemetry.metricsHandler(request, response);
    else response.writeHead(404).end();
  };
  // With TLS: HTTPS from the same files as the process's gRPC door (client certificates too, when it asks
  // for them), re-read as they change.
  const server = tls ? (await import('node:https')).createServer(httpsServerOptions(tls), handler) : (await import('node:http')).createServer(handler);
  const stopReload = tls ? reloadOnChange(server as import('node:https').Server, tls) : () => undefined;
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  } catch (error) {
    stopReload();
    throw error;
  }
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => {
      stopReload();
      server.close(() => resolve());
    }),
  };
}

// A real Jaeger for tests (`jaeger` v2, built once from the Go module proxy by scripts/go-tool), running the
// committed deploy/jaeger/jaeger.yaml with every listener on a free loopback port, and a client of its query API.
import path from 'node:path';
import { REPO_ROOT } from './models.ts';
import { onFreePorts } from './ports.ts';
import { httpOk, scriptOutput, startServerProcess } from './server-process.ts';

/** A span as Jaeger's query API returns it, with its service resolved. */
export interface JaegerSpan {
  traceId: string;
  spanId: string;
  /** The CHILD_OF reference's span id, or '' for a root. */
  parentSpanId: string;
  operationName: string;
  service: string;
  tags: Record<string, unknown>;
  startTime: number;
  duration: number;
}

/** A running Jaeger. */
export interface Jaeger {
  /** OTLP/HTTP base endpoint (for OTEL_EXPORTER_OTLP_ENDPOINT or a collector's exporter). */
  otlpHttp: string;
  /** The query API and UI. */
  queryUrl: string;
  /** The spans of one trace; [] while Jaeger has none of it. */
  trace(traceId: string): Promise<JaegerSpan[]>;
  stop(): Promise<void>;
}

interface RawTrace {
  traceID: string;
  spans: Array<{ traceID: string; spanID: string; operationName: string; processID: string; startTime: number; duration: number;
    references?: Array<{ refType: string; spanID: string }>; tags?: Array<{ key: string; value: unknown }> }>;
  processes: Record<string, { serviceName: string }>;
}

/** Starts Jaeger (building it first if needed, within 15 minutes; scripts/test builds it beforehand). */
export async function startJaeger(): Promise<Jaeger> {
  const binary = await scriptOutput(path.join(REPO_ROOT, 'scripts/go-tool'), ['jaeger'], 15 * 60_000);
  const { server, otlpHttp, queryUrl } = await onFreePorts(5, async ([otlpGrpc, otlpHttp, queryHttp, queryGrpc, health]) => ({
    otlpHttp: `http://127.0.0.1:${otlpHttp}`,
    queryUrl: `http://127.0.0.1:${queryHttp}`,
    server: await startServerProcess({
      name: 'jaeger',
      command: binary,
      args: ['--config', path.join(REPO_ROOT, 'deploy/jaeger/jaeger.yaml')],
      env: {
        JAEGER_OTLP_GRPC: `127.0.0.1:${otlpGrpc}`, JAEGER_OTLP_HTTP: `127.0.0.1:${otlpHttp}`, JAEGER_QUERY_HTTP: `127.0.0.1:${queryHttp}`,
        JAEGER_QUERY_GRPC: `127.0.0.1:${queryGrpc}`, JAEGER_HEALTH_HTTP: `127.0.0.1:${health}`, JAEGER_MAX_TRACES: '10000',
      },
      ready: () => httpOk(`http://127.0.0.1:${queryHttp}/api/services`),
      timeoutMs: 120_000,
    }),
  }));
  return {
    otlpHttp,
    queryUrl,
    trace: async (traceId) => {
      const res = await fetch(`${queryUrl}/api/traces/${traceId}`, { signal: AbortSignal.timeout(10_000) });
      if (res.status === 404) return [];
      if (!res.ok) throw new Error(`Jaeger /api/traces/${traceId}: HTTP ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { data: RawTrace[] };
      return body.data.flatMap((t) => t.spans.map((s) => ({
        traceId: s.traceID, spanId: s.spanID, operationName: s.operationName, service: t.processes[s.processID]?.serviceName ?? '',
        parentSpanId: s.references?.find((r) => r.refType === 'CHILD_OF')?.spanID ?? '',
        tags: Object.fromEntries((s.tags ?? []).map((tag) => [tag.key, tag.value])), startTime: s.startTime, duration: s.duration,
      })));
    },
    stop: () => server.stop(),
  };
}

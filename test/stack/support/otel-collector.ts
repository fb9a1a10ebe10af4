// A real OpenTelemetry Collector process (built by scripts/otelcol) as the OTLP receiver of a test.
// It forwards what it receives as OTLP/JSON to a small HTTP sink in the test, where spans are read.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../support/models.ts';
import { onFreePorts } from '../../support/ports.ts';
import { startServerProcess } from '../../support/server-process.ts';

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

export interface Collector {
  /** OTLP/HTTP base endpoint for OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  spans: ReceivedSpan[];
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  stop(): Promise<void>;
}

function attributeValue(value: Record<string, unknown>): unknown {
  if ('stringValue' in value) return value.stringValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return Number(value.doubleValue);
  if ('boolValue' in value) return value.boolValue;
  if ('arrayValue' in value) return ((value.arrayValue as { values?: Array<Record<string, unknown>> }).values ?? []).map(attributeValue);
  return undefined;
}

function attributes(list: Array<{ key: string; value: Record<string, unknown> }> = []): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, attributeValue(a.value)]));
}

export async function startCollector(): Promise<Collector> {
  const binary = execFileSync(path.join(REPO_ROOT, 'scripts/otelcol'), [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  const spans: ReceivedSpan[] = [];
  const sink: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      try {
        for (const rs of JSON.parse(body).resourceSpans ?? []) {
          const service = String(attributes(rs.resource?.attributes)['service.name'] ?? '');
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, kind: Number(s.kind ?? 0), attributes: attributes(s.attributes) });
            }
          }
        }
      } catch {
        // not a trace export
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()));
  const sinkPort = (sink.address() as net.AddressInfo).port;
  const closeSink = () => new Promise<void>((resolve) => sink.close(() => resolve()));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-otelcol-'));
  const config = path.join(dir, 'config.yaml');
  let started;
  try {
    started = await onFreePorts(1, async ([port]) => {
      writeFileSync(config, `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${port}
exporters:
  otlphttp:
    traces_endpoint: http://127.0.0.1:${sinkPort}/v1/traces
    encoding: json
    compression: none
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp]
  telemetry:
    metrics:
      level: none
`);
      const server = await startServerProcess({
        name: 'otelcol', command: binary, args: ['--config', config], timeoutMs: 30_000,
        // An empty OTLP/JSON export is accepted once the receiver serves.
        ready: async () => (await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(2000) })).ok,
      });
      return { port, server };
    });
  } catch (error) {
    await closeSink();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { port, server } = started;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    waitFor: async (predicate, timeoutMs = 30_000) => {
      const end = Date.now() + timeoutMs;
      while (!predicate(spans)) {
        if (Date.now() > end) throw new Error(`spans not received in ${timeoutMs} ms; have ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return spans;
    },
    stop: async () => {
      await server.stop();
      await closeSink();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The OpenTelemetry Collector (built by scripts/otelcol) running the committed deploy/otelcol/config.yaml,
// with its receivers on free loopback ports and its exporter pointed at the given Jaeger.
import path from 'node:path';
import { REPO_ROOT } from './models.ts';
import { onFreePorts } from './ports.ts';
import { scriptOutput, startServerProcess } from './server-process.ts';

/** A running collector: where to send OTLP/HTTP, and how to stop it. */
export interface DeployedCollector {
  otlpHttp: string;
  stop(): Promise<void>;
}

/** Starts the collector on deploy/otelcol/config.yaml, exporting to `jaegerOtlpHttp`. */
export async function startDeployedCollector(jaegerOtlpHttp: string): Promise<DeployedCollector> {
  const binary = await scriptOutput(path.join(REPO_ROOT, 'scripts/otelcol'), [], 15 * 60_000);
  return onFreePorts(2, async ([grpcPort, httpPort]) => {
    const otlpHttp = `http://127.0.0.1:${httpPort}`;
    const server = await startServerProcess({
      name: 'otelcol',
      command: binary,
      args: ['--config', path.join(REPO_ROOT, 'deploy/otelcol/config.yaml')],
      env: { OTELCOL_OTLP_GRPC: `127.0.0.1:${grpcPort}`, OTELCOL_OTLP_HTTP: `127.0.0.1:${httpPort}`, JAEGER_OTLP_HTTP: jaegerOtlpHttp },
      // An empty OTLP/JSON export is accepted once the receiver serves.
      ready: async () => (await fetch(`${otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(2000) })).ok,
    });
    return { otlpHttp, stop: () => server.stop() };
  });
}

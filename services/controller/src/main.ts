// Composition root of `fslm controller`: reads the configuration, builds the kube client, telemetry
// and the controller, and runs until SIGINT/SIGTERM. services/cli/main.ts calls runController(argv);
// `node --import tsx services/controller/src/main.ts ...` runs it directly.
import { pathToFileURL } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from '../../shared/errors.ts';
import { parseConfig, USAGE } from './config.ts';
import { Controller } from './controller.ts';
import { startTelemetry } from './telemetry.ts';
import type { Logger } from './run-reconciler.ts';

const jsonLog: Logger = (msg, fields = {}) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
};

/** `fslm controller [flags]`; resolves with the process exit code. */
export async function runController(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseConfig(argv);
  } catch (e) {
    process.stderr.write(`${errorMessage(e)}\n${USAGE}\n`);
    return 2;
  }
  if (config.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const kubeConfig = new KubeConfig();
  try {
    if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
    else kubeConfig.loadFromCluster();
  } catch (e) {
    process.stderr.write(`fslm controller: cannot load a kubeconfig: ${errorMessage(e)}\n`);
    return 1;
  }
  const telemetry = await startTelemetry({ otlpUrl: config.otlpUrl, metrics: config.metrics, identity: config.identity, serviceName: config.serviceName });
  const log = jsonLog;
  log('starting', { identity: config.identity, server: kubeConfig.getCurrentCluster()?.server, leaderElect: config.leaderElect,
    metrics: telemetry.metricsAddress });
  const abort = new AbortController();
  const onSignal = (sig: string) => () => {
    log('shutting down', { signal: sig });
    abort.abort();
  };
  const sigint = onSignal('SIGINT');
  const sigterm = onSignal('SIGTERM');
  process.once('SIGINT', sigint);
  process.once('SIGTERM', sigterm);
  try {
    return await new Controller({ kubeConfig, config, telemetry, log }).run(abort.signal);
  } catch (e) {
    log('controller failed', { error: errorMessage(e) });
    return 1;
  } finally {
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
    await telemetry.shutdown().catch(() => {});
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runController(process.argv.slice(2)).then((code) => process.exit(code));
}

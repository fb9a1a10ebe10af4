// A running stage process: its doors (gRPC, metrics, NATS worker) over one engine, until a signal
// (SIGINT, SIGTERM, SIGHUP; `fslm --parent-pid` turns its parent's death into SIGTERM) or the engine's
// failure stops it. Every step of the shutdown has a bound, and the whole shutdown too: a stage whose
// NATS server is gone still exits promptly.
import type { ServerCredentials } from '@grpc/grpc-js';
import type { NatsConnection } from 'nats';
import { joinHostPort, splitHostPort } from '../../shared/address.ts';
import type { GrpcServerTls } from '../../shared/grpc-tls.ts';
import { subjects } from '../../shared/bus-codec.ts';
import { errorMessage, type FslmError } from '../../shared/errors.ts';
import { connectNats, logNatsStatus, type NatsClientSettings } from '../../shared/nats-connect.ts';
import { onTerminationSignal, signalExitCode, type TerminationSignal } from '../../shared/process-lifetime.ts';
import { serveMetrics, startTelemetry } from '../../shared/telemetry.ts';
import { within } from './bounded.ts';
import type { StageEnvironment } from './config.ts';
import type { ThreadedEngine } from './engine-threaded.ts';
import { STAGE_SERVICE_NAME, startStageServer } from './grpc-server.ts';
import { NatsStageWorker } from './nats-worker.ts';
import { StageHealth } from './stage-health.ts';
import { StageMetrics } from './stage-metrics.ts';

/** Where a stage process serves: its checked command-line addresses and names. */
export interface StageServeOptions {
  grpc: string;
  metrics?: string;
  /** The NATS servers, TLS and identity; with nats: stack, stage and replica are set. */
  nats?: NatsClientSettings;
  stack?: string;
  stage?: string;
  subject?: string;
  replica: string;
  /** The gRPC door's credentials (plaintext when absent; TLS: grpc-tls.ts). */
  credentials?: ServerCredentials;
  /** The gRPC door's TLS files, when it has TLS: the metrics endpoint then serves HTTPS from the same files. */
  tls?: GrpcServerTls;
}

/** Bounds of one shutdown step (worker, NATS drain, gRPC, metrics, telemetry), in milliseconds. */
export const SHUTDOWN_STEP_MS = 3000;
type StopReason = { why: 'signal'; signal: TerminationSignal } | { why: 'engine-failed'; error: FslmError };

/** Serves until stopped; returns the exit code (0 after a signal, 1 when the engine failed). */
export async function serveStage(engine: ThreadedEngine, options: StageServeOptions, env: StageEnvironment): Promise<number> {
  const log = (event: Record<string, unknown>) => console.log(JSON.stringify({ ...event, stage: options.stage, replica: options.replica }));
  const telemetry = startTelemetry({ ...env.telemetry, serviceInstanceId: options.replica });
  const stageName = options.stage ?? (engine.artifact.manifest.stage || engine.artifact.manifest.name);
  const metrics = new StageMetrics(telemetry.meter, stageName, engine.artifact.precision);
  metrics.observeEngine(telemetry.meter, () => engine.stats());
  // The engine is loaded and its artifact verified; health stays NOT_SERVING until every door takes work.
  const stage = await startStageServer(engine, engine.artifact, options.grpc, metrics, options.credentials);
  const health = new StageHealth(stage.health, STAGE_SERVICE_NAME, (status, reasons) => log({ event: 'health', status, reasons }));
  const ready: Record<string, unknown> = {
    event: 'listening', grpc: joinHostPort(splitHostPort(options.grpc).host, stage.port),
    model: engine.artifact.manifest.name, version: engine.artifact.version, precision: engine.artifact.precision,
    ...(engine.artifact.adapterVersion ? { adapter_version: engine.artifact.adapterVersion } : {}),
  };
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | null = null;
  if (options.metrics) {
    const { host, port } = splitHostPort(options.metrics);
    metricsServer = await serveMetrics(telemetry, host, port, options.tls);
    ready.metrics = joinHostPort(host, metricsServer.port);
  }
  let nc: NatsConnection | null = null;
  let worker: NatsStageWorker | null = null;
  if (options.nats) {
    try {
      nc = await connectNats(options.nats);
    } catch (error) {
      console.error(`fslm stage: ${errorMessage(error)}`);
      await Promise.all([within(stage.shutdown(), SHUTDOWN_STEP_MS), within(metricsServer?.close(), SHUTDOWN_STEP_MS), engine.close(), within(telemetry.shutdown(), SHUTDOWN_STEP_MS)]);
      return 1;
    }
    const subjectPrefix = options.subject ?? subjects.prefix(options.stack!, options.stage!);
    worker = new NatsStageWorker(nc, engine, {
      stack: options.stack!, stage: options.stage!, subjectPrefix, replica: options.replica,
      model: engine.artifact.manifest.name, modelVersion: engine.artifact.version, adapterVersion: engine.artifact.adapterVersion,
      precision: engine.artifact.precision, tracer: telemetry.tracer, metrics, handoffMaxWaitMs: env.handoffMaxWaitMs, log,
      onConnection: (connected) => (connected ? health.lift('nats-disconnected') : health.hold('nats-disconnected')),
    });
    const jobs = worker;
    metrics.observeJobs(telemetry.meter, () => jobs.held());
    logNatsStatus(nc, log);
    try {
      await worker.start();
    } catch (error) {
      // NATS refused a subscription: this identity may not serve this stage.
      console.error(`fslm stage: ${errorMessage(error)}`);
      await within(nc.close(), SHUTDOWN_STEP_MS);
      await Promise.all([within(stage.shutdown(), SHUTDOWN_STEP_MS), within(metricsServer?.close(), SHUTDOWN_STEP_MS), engine.close(), within(telemetry.shutdown(), SHUTDOWN_STEP_MS)]);
      return 1;
    }
    Object.assign(ready, { nats: options.nats.servers.join(','), stack: options.stack, stage: options.stage, subject: subjects.run(subjectPrefix), replica: options.replica });
  }
  // worker.start() returned after a flush: the server has every subscription.
  if (!engine.failed) health.lift('starting');

  const reason = await new Promise<StopReason>((resolve) => {
    const stopListening = onTerminationSignal((signal) => {
      stopListening();
      resolve({ why: 'signal', signal });
    });
    engine.onFailure((error) => {
      // Stop looking alive at once: health first, then no more NATS work (heartbeats end with their jobs).
      health.stop();
      void worker?.stop(0);
      resolve({ why: 'engine-failed', error });
    });
    if (engine.failed) resolve({ why: 'engine-failed', error: engine.failed });
    if (env.faultInjection) {
      const fault = env.faultInjection === 'engine-thread-exit' ? 'exit' : 'throw';
      process.on('SIGUSR2', () => engine.injectFault(fault));
    }
    console.log(JSON.stringify(ready));
  });

  const code = reason.why === 'signal' ? 0 : 1;
  log(reason.why === 'engine-failed'
    ? { event: 'stopping', reason: reason.why, code: reason.error.code, message: reason.error.message }
    : { event: 'stopping', reason: reason.why, signal: reason.signal });
  // Whatever hangs, the process exits within the bound; a second signal exits at once.
  const forced = setTimeout(() => {
    log({ event: 'stop-forced', after_ms: env.shutdownTimeoutMs });
    process.exit(code || 1);
  }, env.shutdownTimeoutMs);
  forced.unref();
  onTerminationSignal((signal) => process.exit(signalExitCode(signal)));

  health.stop();
  await worker?.stop(SHUTDOWN_STEP_MS);
  if (nc && !nc.isClosed()) {
    // A connection without a server cannot drain: close it at once.
    const drained = worker?.connected && await within(nc.drain(), SHUTDOWN_STEP_MS);
    if (!drained) await within(nc.close(), SHUTDOWN_STEP_MS);
  }
  await within(stage.shutdown(), SHUTDOWN_STEP_MS);
  await within(metricsServer?.close(), SHUTDOWN_STEP_MS);
  await engine.close();
  await within(telemetry.shutdown(), SHUTDOWN_STEP_MS);
  log({ event: 'stopped', code });
  return code;
}

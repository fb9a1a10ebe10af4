// Composition root of a stage: `fslm stage --model DIR --grpc HOST:PORT [--nats URL --stack NAME --stage NAME]`.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { connect, type NatsConnection } from 'nats';
import { joinHostPort, splitHostPort } from '../../shared/address.ts';
import { DNS_LABEL, SUBJECT_PREFIX, subjects } from '../../shared/bus-codec.ts';
import { errorMessage } from '../../shared/errors.ts';
import { serveMetrics, startTelemetry } from '../../shared/telemetry.ts';
import { isPrecision, PRECISIONS, type Precision } from './artifact.ts';
import { readStageEnvironment } from './config.ts';
import { ThreadedEngine } from './engine-threaded.ts';
import { startStageServer } from './grpc-server.ts';
import { StageMetrics } from './stage-metrics.ts';
import { NatsStageWorker } from './nats-worker.ts';

export const STAGE_USAGE = `usage: fslm stage --model DIR [--grpc HOST:PORT] [--precision fp32|int8|int4] [--threads N]
                  [--max-batch N] [--max-queue N] [--max-prompt-tokens N]
                  [--nats URL --stack NAME --stage NAME [--subject PREFIX] [--replica ID]] [--metrics HOST:PORT]`;

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function defaultReplicaId(): string {
  return `${os.hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
}

export async function runStage(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        grpc: { type: 'string', default: '127.0.0.1:50051' },
        precision: { type: 'string', default: 'fp32' },
        threads: { type: 'string' },
        'max-batch': { type: 'string' },
        'max-queue': { type: 'string' },
        'max-prompt-tokens': { type: 'string' },
        nats: { type: 'string' },
        stack: { type: 'string' },
        stage: { type: 'string' },
        subject: { type: 'string' },
        replica: { type: 'string' },
        metrics: { type: 'string' },
      },
      strict: true,
    }));
    if (!values.model) throw new Error('--model is required');
    if (!isPrecision(values.precision)) throw new Error(`--precision must be ${PRECISIONS.join(', ')}, got ${JSON.stringify(values.precision)}`);
    splitHostPort(values.grpc!, '--grpc');
    if (values.metrics) splitHostPort(values.metrics, '--metrics');
    if (values.nats) {
      if (!values.stack || !DNS_LABEL.test(values.stack)) throw new Error('--nats needs --stack NAME (a lowercase DNS label)');
      if (!values.stage || !DNS_LABEL.test(values.stage)) throw new Error('--nats needs --stage NAME (a lowercase DNS label)');
      if (values.subject && !SUBJECT_PREFIX.test(values.subject)) throw new Error('--subject must be a NATS subject prefix');
      if (values.replica && !TOKEN.test(values.replica)) throw new Error('--replica must be 1-64 characters of [A-Za-z0-9_-]');
    } else if (values.stack || values.stage || values.subject || values.replica) {
      throw new Error('--stack, --stage, --subject and --replica need --nats');
    }
  } catch (error) {
    console.error(`fslm stage: ${errorMessage(error)}\n${STAGE_USAGE}`);
    return 2;
  }
  let engine: ThreadedEngine;
  try {
    engine = await ThreadedEngine.load({
      modelDir: values.model!,
      precision: values.precision as Precision,
      intraOpThreads: positiveInt(values.threads, '--threads'),
      maxBatchSize: positiveInt(values['max-batch'], '--max-batch'),
      maxQueue: positiveInt(values['max-queue'], '--max-queue'),
      maxPromptTokens: positiveInt(values['max-prompt-tokens'], '--max-prompt-tokens'),
    });
  } catch (error) {
    console.error(`fslm stage: cannot load ${values.model}: ${errorMessage(error)}`);
    return 2;
  }
  const env = readStageEnvironment();
  const replica = values.replica ?? defaultReplicaId();
  const telemetry = startTelemetry({ ...env.telemetry, serviceInstanceId: replica });
  const metrics = new StageMetrics(telemetry.meter, values.stage ?? (engine.artifact.manifest.stage || engine.artifact.manifest.name), engine.artifact.precision);
  const stage = await startStageServer(engine, engine.artifact, values.grpc!, metrics);
  const ready: Record<string, unknown> = {
    event: 'listening', grpc: joinHostPort(splitHostPort(values.grpc!).host, stage.port),
    model: engine.artifact.manifest.name, version: engine.artifact.version, precision: engine.artifact.precision,
  };
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | null = null;
  if (values.metrics) {
    const { host, port } = splitHostPort(values.metrics);
    metricsServer = await serveMetrics(telemetry, host, port);
    ready.metrics = joinHostPort(host, metricsServer.port);
  }
  let nc: NatsConnection | null = null;
  let worker: NatsStageWorker | null = null;
  if (values.nats) {
    try {
      nc = await connect({ servers: values.nats, name: `fslm-stage-${values.stack}-${values.stage}-${replica}`, maxReconnectAttempts: -1 });
    } catch (error) {
      console.error(`fslm stage: cannot connect to NATS at ${values.nats}: ${errorMessage(error)}`);
      await Promise.all([stage.shutdown(), engine.close(), telemetry.shutdown()]);
      return 1;
    }
    const subjectPrefix = values.subject ?? subjects.prefix(values.stack!, values.stage!);
    worker = new NatsStageWorker(nc, engine, {
      stack: values.stack!, stage: values.stage!, subjectPrefix, replica,
      model: engine.artifact.manifest.name, modelVersion: engine.artifact.version, precision: engine.artifact.precision,
      tracer: telemetry.tracer, metrics,
      log: (event) => console.log(JSON.stringify({ ...event, stage: values.stage, replica })),
    });
    await worker.start();
    Object.assign(ready, { nats: values.nats, stack: values.stack, stage: values.stage, subject: subjects.run(subjectPrefix), replica });
  }
  console.log(JSON.stringify(ready));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await worker?.stop();
  await nc?.drain().catch(() => undefined);
  await stage.shutdown();
  await metricsServer?.close();
  await engine.close();
  await telemetry.shutdown();
  return 0;
}

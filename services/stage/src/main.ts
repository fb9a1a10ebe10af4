// Composition root of a stage: `fslm stage --model DIR --grpc HOST:PORT [--nats URL --stack NAME --stage NAME]`.
import os from 'node:os';
import { Option } from 'commander';
import { DNS_LABEL, SUBJECT_PREFIX } from '../../shared/bus-codec.ts';
import { checkedText, fslmCommand, hostPort, matching, parseCommandLine, positiveInteger } from '../../shared/command-line.ts';
import { errorMessage } from '../../shared/errors.ts';
import { grpcServerCredentials, type GrpcServerTls } from '../../shared/grpc-tls.ts';
import { natsConnectionOptions, parseNatsServers, type NatsClientSettings } from '../../shared/nats-connect.ts';
import {
  addNatsTrustOptions, addServerTlsOptions, natsTrustOf, serverTlsOf, type NatsTrustFlags, type ServerTlsFlags,
} from '../../shared/trust-options.ts';
import { PRECISIONS, type Precision } from './artifact.ts';
import { readStageEnvironment, type StageEnvironment } from './config.ts';
import { ThreadedEngine } from './engine-threaded.ts';
import { serveStage } from './stage-process.ts';

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** The flags of `fslm stage`, as text (numbers are checked here and converted where they are used). */
interface StageFlags extends ServerTlsFlags, NatsTrustFlags {
  model: string;
  grpc: string;
  precision: Precision;
  threads?: string;
  maxBatch?: string;
  maxQueue?: string;
  maxPromptTokens?: string;
  nats?: string;
  stack?: string;
  stage?: string;
  subject?: string;
  replica?: string;
  metrics?: string;
}

function stageCommand() {
  const count = checkedText(positiveInteger);
  const command = fslmCommand('fslm stage', 'Serve one SLM over gRPC (StageService), and over NATS with --nats.')
    .requiredOption('--model <DIR>', 'the ONNX model artifact directory (holding fslm.json)')
    .option('--grpc <HOST:PORT>', 'gRPC address (port 0 picks a free one)', hostPort, '127.0.0.1:50051')
    .addOption(new Option('--precision <P>', 'which of the artifact\'s models to serve').choices([...PRECISIONS]).default('fp32'))
    .option('--threads <N>', 'ONNX Runtime intra-op threads', count)
    .option('--max-batch <N>', 'sequences decoded together in one step', count)
    .option('--max-queue <N>', 'requests admitted beyond the batch before RESOURCE_EXHAUSTED', count)
    .option('--max-prompt-tokens <N>', 'longest prompt accepted, in tokens', count)
    .option('--nats <URL[,URL...]>', 'also serve the stage as a NATS worker; several servers: the client fails over between them')
    .option('--stack <NAME>', 'with --nats: the stack (a lowercase DNS label)', matching(DNS_LABEL, 'a lowercase DNS label'))
    .option('--stage <NAME>', 'with --nats: the stage (a lowercase DNS label)', matching(DNS_LABEL, 'a lowercase DNS label'))
    .option('--subject <PREFIX>', 'with --nats: the subject prefix (default fslm.STACK.STAGE)', matching(SUBJECT_PREFIX, 'a NATS subject prefix'))
    .option('--replica <ID>', 'with --nats: this replica\'s id (default HOST-PID)', matching(TOKEN, '1-64 characters of [A-Za-z0-9_-]'))
    .option('--metrics <HOST:PORT>', 'serve Prometheus /metrics here', hostPort);
  return addNatsTrustOptions(addServerTlsOptions(command));
}

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
  const line = parseCommandLine<StageFlags>(stageCommand(), argv, (flags) => {
    if (flags.nats) {
      parseNatsServers(flags.nats);
      if (!flags.stack) throw new Error('--nats needs --stack NAME (a lowercase DNS label)');
      if (!flags.stage) throw new Error('--nats needs --stage NAME (a lowercase DNS label)');
    } else if (flags.stack || flags.stage || flags.subject || flags.replica || flags.natsCa || flags.natsNkey) {
      throw new Error('--stack, --stage, --subject, --replica and the --nats-* files need --nats');
    }
    serverTlsOf(flags);
    natsTrustOf(flags);
  });
  if (!line.ok) return line.exitCode;
  const flags = line.opts;
  // TLS files and the NATS identity are read now: a bad one is refused before the model loads.
  let credentials;
  let tls: GrpcServerTls | undefined;
  let nats: NatsClientSettings | undefined;
  try {
    tls = serverTlsOf(flags);
    credentials = grpcServerCredentials(tls);
    if (flags.nats) {
      const replica = flags.replica ?? defaultReplicaId();
      nats = { servers: parseNatsServers(flags.nats), name: `fslm-stage-${flags.stack}-${flags.stage}-${replica}`, ...natsTrustOf(flags) };
      natsConnectionOptions(nats);
    }
  } catch (error) {
    console.error(`fslm stage: ${errorMessage(error)}`);
    return 2;
  }
  const values = {
    ...flags, 'max-batch': flags.maxBatch, 'max-queue': flags.maxQueue, 'max-prompt-tokens': flags.maxPromptTokens,
  };
  let env: StageEnvironment;
  try {
    env = readStageEnvironment();
  } catch (error) {
    console.error(`fslm stage: ${errorMessage(error)}`);
    return 2;
  }
  let engine: ThreadedEngine;
  try {
    engine = await ThreadedEngine.load({
      modelDir: values.model!,
      precision: values.precision,
      intraOpThreads: positiveInt(values.threads, '--threads'),
      maxBatchSize: positiveInt(values['max-batch'], '--max-batch'),
      maxQueue: positiveInt(values['max-queue'], '--max-queue'),
      maxPromptTokens: positiveInt(values['max-prompt-tokens'], '--max-prompt-tokens'),
    });
  } catch (error) {
    console.error(`fslm stage: cannot load ${values.model}: ${errorMessage(error)}`);
    return 2;
  }
  return serveStage(engine, {
    grpc: values.grpc!, metrics: values.metrics, nats, stack: values.stack, stage: values.stage,
    subject: values.subject, replica: values.replica ?? defaultReplicaId(), credentials, tls,
  }, env);
}

// What the stack figures run on: a private nats-server, the default stack's four stages as NATS
// workers (in this process, on engines this process also calls directly, or as `fslm stage`
// processes), and the router's StackRunner in this process.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from 'nats';
import { metrics, trace } from '@opentelemetry/api';
import { fslmArgs, spawnChild, jsonEvent, type Child } from '../services/cli/up-processes.ts';
import { Admission } from '../services/router/src/admission.ts';
import { DEFAULT_HANDOFF_MAX_IN_FLIGHT } from '../services/router/src/defaults.ts';
import { NatsBus } from '../services/router/src/bus-nats.ts';
import { insertedText } from '../services/router/src/handoff-feed.ts';
import { RouterMetrics } from '../services/router/src/router-metrics.ts';
import { loadStackFile } from '../services/router/src/stack-loader.ts';
import { mergeParams, stageRequest } from '../services/router/src/stage-prompt.ts';
import { StackRunner } from '../services/router/src/stack-runner.ts';
import type { StackDefinition, StackOutcome } from '../services/router/src/types.ts';
import type { GenerationParams } from '../services/shared/generated/fslm/v1/GenerationParams.ts';
import { OnnxEngine } from '../services/stage/src/engine-onnx.ts';
import { ThreadedEngine } from '../services/stage/src/engine-threaded.ts';
import { StageMetrics } from '../services/stage/src/stage-metrics.ts';
import { NatsStageWorker } from '../services/stage/src/nats-worker.ts';
import { resolveSampling } from '../services/stage/src/sampling-params.ts';
import type { GenerateResult, InferenceEngine } from '../services/stage/src/types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function loadDefaultStack(): Promise<StackDefinition> {
  return loadStackFile(path.join(ROOT, 'stacks/default.yaml'));
}

/** The same per-stage parameter override for every stage (shorter outputs for benchmarks). */
export function everyStage(stack: StackDefinition, params: GenerationParams): Record<string, GenerationParams> {
  return Object.fromEntries(stack.stages.map((s) => [s.name, params]));
}

export interface Router {
  run(input: string, options: { params: Record<string, GenerationParams>; handoff: boolean }): Promise<StackOutcome>;
  close(): Promise<void>;
}

let requestCount = 0;

export async function startRouter(natsUrl: string, stack: StackDefinition): Promise<Router> {
  const nc = await connect({ servers: natsUrl, name: 'bench-router' });
  const bus = new NatsBus(nc);
  const runner = new StackRunner({
    bus, stacks: new Map([[stack.name, stack]]), admission: new Admission(1024), tracer: trace.getTracer('bench'),
    metrics: new RouterMetrics(metrics.getMeter('bench')), config: { heartbeatMs: 250, heartbeatTimeoutMs: 10_000, maxAttempts: 1, handoffMaxInFlight: DEFAULT_HANDOFF_MAX_IN_FLIGHT },
  });
  return {
    run: (input, { params, handoff }) => runner.run(stack, {
      requestId: `bench-${requestCount++}`, input, deadlineMs: Infinity, params, handoff, signal: new AbortController().signal,
    }),
    close: () => bus.close(),
  };
}

/** The stages' engines in this process: called directly (stages in sequence) or through NATS workers. */
export interface InProcessStages {
  engines: Array<InferenceEngine & { artifact: OnnxEngine['artifact'] }>;
  /** Runs the stack by calling the engines one after another, as the router would feed them. */
  direct(input: string, params: Record<string, GenerationParams>): Promise<GenerateResult[]>;
  /** Serves the same engines as NATS workers. */
  serve(natsUrl: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * kind 'onnx': OnnxEngine on this thread (all stages share one core); 'threaded': ThreadedEngine, the
 * engine `fslm stage` runs (each on its own worker thread).
 */
export async function loadInProcessStages(stack: StackDefinition, modelDir: string, kind: 'onnx' | 'threaded'): Promise<InProcessStages> {
  const engines: InProcessStages['engines'] = [];
  for (const stage of stack.stages) {
    const options = { modelDir, intraOpThreads: 1, maxBatchSize: 16, precision: stage.precision };
    engines.push(kind === 'onnx' ? await OnnxEngine.load(options) : await ThreadedEngine.load(options));
  }
  const connections: NatsConnection[] = [];
  const workers: NatsStageWorker[] = [];
  return {
    engines,
    direct: async (input, params) => {
      const texts: Record<string, string> = {};
      const results: GenerateResult[] = [];
      for (const [i, stage] of stack.stages.entries()) {
        const request = stageRequest(stage, { input, stages: texts }, mergeParams(stage.params, params[stage.name]));
        const result = await engines[i].generate({
          prompt: { kind: 'chat', messages: request.messages!.map((m) => ({ role: m.role!, content: m.content! })) },
          sampling: resolveSampling(request.params as Parameters<typeof resolveSampling>[0], engines[i].limits),
          requestId: `direct-${requestCount++}`,
        });
        texts[stage.name] = insertedText(result.text);
        results.push(result);
      }
      return results;
    },
    serve: async (natsUrl) => {
      for (const [i, stage] of stack.stages.entries()) {
        const nc = await connect({ servers: natsUrl, name: `bench-${stage.name}` });
        connections.push(nc);
        const worker = new NatsStageWorker(nc, engines[i], {
          stack: stack.name, stage: stage.name, subjectPrefix: stage.subjectPrefix, replica: `bench-${stage.name}`,
          model: engines[i].artifact.manifest.name, modelVersion: engines[i].artifact.version,
          tracer: trace.getTracer('bench'), metrics: new StageMetrics(metrics.getMeter('bench'), stage.name, stage.precision), log: () => undefined,
        });
        await worker.start();
        workers.push(worker);
      }
    },
    close: async () => {
      for (const w of workers) await w.stop();
      for (const nc of connections) await nc.close();
      for (const e of engines) await e.close();
    },
  };
}

/**
 * One `fslm stage` process per stage (one intra-op thread each, at the stage's precision), each stopping
 * if this process dies; each child's ready line names its gRPC address.
 */
export async function startStageProcesses(stack: StackDefinition, modelDir: string, natsUrl: string): Promise<Child[]> {
  const children = stack.stages.map((stage) => spawnChild({
    name: stage.name,
    command: process.execPath,
    args: fslmArgs('stage', ['--model', modelDir, '--precision', stage.precision, '--grpc', '127.0.0.1:0', '--nats', natsUrl, '--stack', stack.name,
      '--stage', stage.name, '--subject', stage.subjectPrefix, '--threads', '1', '--max-batch', '16']),
    readyWhen: jsonEvent('listening'),
  }));
  try {
    await Promise.all(children.map((c) => c.ready));
  } catch (error) {
    await Promise.all(children.map((c) => c.stop()));
    throw error;
  }
  return children;
}


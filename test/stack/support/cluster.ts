// A whole stack for a test: a real nats-server, real `fslm stage --nats` processes and a real
// `fslm router` process, plus a gRPC client of the router.
import type { StackServiceClient } from '../../../services/shared/generated/fslm/v1/StackService.ts';
import { stackServiceClient } from '../../../services/router/src/client.ts';
import { startFslm, type FslmProcess } from '../../support/processes.ts';
import { spawnNatsServer } from '../../../services/cli/up-processes.ts';
import type { StackBuilder } from './stack-builder.ts';

export interface ClusterOptions {
  stack: StackBuilder;
  /** Artifact directory every stage serves. */
  modelDir: string;
  /** Replicas per stage (default 1); 0 leaves a stage without any. */
  replicas?: Record<string, number>;
  routerEnv?: Record<string, string>;
  stageEnv?: Record<string, string>;
  routerArgs?: string[];
}

export interface Cluster {
  nats: { url: string };
  stages: Map<string, FslmProcess[]>;
  router: FslmProcess;
  grpc: string;
  http: string;
  client: StackServiceClient;
  /** The stage process whose replica id is `replica`. */
  replica(replica: string): FslmProcess;
  stop(): Promise<void>;
}

/** `fslm stage` serves fp32 unless told: a stage's precision in the stack is passed on, as `fslm up` does. */
function precisionArgs(precision: string | undefined): string[] {
  return precision ? ['--precision', precision] : [];
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const natsServer = spawnNatsServer();
  const nats = { url: String((await natsServer.ready).url) };
  const stackFile = options.stack.write();
  const stackName = String(options.stack.toObject().metadata && (options.stack.toObject().metadata as { name: string }).name);
  const started: FslmProcess[] = [];
  const stages = new Map<string, FslmProcess[]>();
  try {
    const launches = options.stack.stageNames.flatMap((name) => Array.from({ length: options.replicas?.[name] ?? 1 }, (_, i) =>
      startFslm(['stage', '--model', options.modelDir, '--grpc', '127.0.0.1:0', '--nats', nats.url, '--stack', stackName, '--stage', name,
        ...precisionArgs(options.stack.precisionOf(name)), '--threads', '1', '--metrics', '127.0.0.1:0', '--replica', `${name}-${i + 1}`], { env: options.stageEnv })
        .then((p) => {
          started.push(p);
          stages.set(name, [...(stages.get(name) ?? []), p]);
        })));
    const settled = await Promise.allSettled(launches);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const router = await startFslm(['router', '--stack', stackFile, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--nats', nats.url, ...(options.routerArgs ?? [])], { env: options.routerEnv });
    started.push(router);
    const grpc = String(router.ready.grpc);
    const client = stackServiceClient(grpc);
    return {
      nats, stages, router, grpc, http: String(router.ready.http), client,
      replica: (id) => {
        const found = started.find((p) => p.ready.replica === id);
        if (!found) throw new Error(`no stage replica ${id}`);
        return found;
      },
      stop: async () => {
        client.close();
        await Promise.all(started.map((p) => p.stop()));
        await natsServer.stop();
      },
    };
  } catch (error) {
    await Promise.all(started.map((p) => p.stop()));
    await natsServer.stop();
    throw error;
  }
}

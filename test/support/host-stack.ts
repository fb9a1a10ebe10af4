// A whole stack across separate hosts (hosts.ts): a 3-server NATS cluster on three hosts, every stage
// replica on its own host, the router on its own host; this process is the clients' host. Stages and the
// router are given all three NATS servers. Faults: a stage host killed (SIGKILL to all its processes) or
// frozen (SIGSTOP), a stage restarted, a NATS server stopped and started, the router restarted.
// `stop` stops every process and removes the hosts, also after a failed start. With `trust`, the NATS
// cluster serves TLS (clients and routes) with NKey users, and each process gets its trust flags.
import type { StackServiceClient } from '../../services/shared/generated/fslm/v1/StackService.ts';
import { stackServiceClient } from '../../services/router/src/client.ts';
import type { ClusterOptions } from '../stack/support/cluster.ts';
import { createHosts, type Host, type HostNetwork } from './hosts.ts';
import { startNatsCluster, type NatsCluster, type NatsClusterOptions } from './nats-cluster.ts';
import { startFslm, type FslmProcess } from './processes.ts';

export const STAGE_GRPC_PORT = 50051;
export const STAGE_METRICS_PORT = 9464;
export const ROUTER_GRPC_PORT = 50050;
export const ROUTER_HTTP_PORT = 8080;

/** One stage replica on its own host. */
export interface StageReplica {
  /** Replica id and host name: `<stage>-<n>`. */
  id: string;
  stage: string;
  host: Host;
  process: FslmProcess;
  /** http://IP:9464/metrics */
  metricsUrl: string;
}

/** Trust across the hosts: the NATS cluster's, and the flags of each stage (by stage name) and of the router. */
export interface HostTrust {
  nats: (hosts: Host[]) => NonNullable<NatsClusterOptions['trust']>;
  stageArgs: (stage: string) => string[];
  routerArgs: string[];
}

/** The stack, model, environment and router flags (as for the loopback cluster); replicas default to 2 per stage, each on its own host. */
export type HostStackOptions = ClusterOptions & { trust?: HostTrust };

export interface HostStack {
  net: HostNetwork;
  nats: NatsCluster;
  stackName: string;
  stackFile: string;
  replicas: Map<string, StageReplica>;
  router: FslmProcess;
  routerHost: Host;
  /** IP:50050 and IP:8080 of the router. */
  grpc: string;
  http: string;
  /** Every stage and router process started so far, with its role (replica id or 'router'), also those since stopped. */
  history: Array<{ role: string; process: FslmProcess }>;
  /** A gRPC client of the router (made again when the router restarts). */
  client(): StackServiceClient;
  replica(id: string): StageReplica;
  /** SIGKILL to everything on the replica's host; resolves once its process has exited. */
  killReplicaHost(id: string): Promise<void>;
  /** Starts the replica's stage process again on its host. */
  restartReplica(id: string): Promise<StageReplica>;
  /** Stops the router (SIGTERM, or SIGKILL) and starts it again; resolves when it listens. */
  restartRouter(signal?: 'SIGTERM' | 'SIGKILL', beforeStart?: () => Promise<void>): Promise<FslmProcess>;
  stop(): Promise<void>;
}

function routerArgs(options: HostStackOptions, host: Host, stackFile: string, natsUrls: string): string[] {
  return ['router', '--stack', stackFile, '--grpc', `${host.ip}:${ROUTER_GRPC_PORT}`, '--http', `${host.ip}:${ROUTER_HTTP_PORT}`,
    '--nats', natsUrls, ...(options.trust?.routerArgs ?? []), ...(options.routerArgs ?? [])];
}

/** Starts the NATS cluster, every stage replica and the router on their own hosts. */
export async function startHostStack(options: HostStackOptions): Promise<HostStack> {
  const stackName = String((options.stack.toObject().metadata as { name: string }).name);
  const stackFile = options.stack.write();
  const replicaIds = options.stack.stageNames.flatMap((stage) => Array.from({ length: options.replicas?.[stage] ?? 2 }, (_, i) => ({ stage, id: `${stage}-${i + 1}` })));
  const net = await createHosts(['nats-1', 'nats-2', 'nats-3', ...replicaIds.map((r) => r.id), 'router']);
  const processes = new Set<FslmProcess>();
  const history: Array<{ role: string; process: FslmProcess }> = [];
  let nats: NatsCluster | null = null;
  let client: StackServiceClient | null = null;
  const stop = async () => {
    client?.close();
    await Promise.all([...processes].map((p) => p.stop()));
    await nats?.stop();
    await net.stop();
  };
  try {
    const natsHosts = [net.host('nats-1'), net.host('nats-2'), net.host('nats-3')];
    nats = await startNatsCluster(natsHosts, { trust: options.trust?.nats(natsHosts) });
    const natsUrls = nats.urls;
    const replicas = new Map<string, StageReplica>();
    const startReplica = async (stage: string, id: string): Promise<StageReplica> => {
      const host = net.host(id);
      const process = await startFslm(['stage', '--model', options.modelDir, '--grpc', `${host.ip}:${STAGE_GRPC_PORT}`, '--nats', natsUrls,
        '--stack', stackName, '--stage', stage, '--threads', '1', '--metrics', `${host.ip}:${STAGE_METRICS_PORT}`, '--replica', id,
        ...(options.trust?.stageArgs(stage) ?? [])],
        { env: options.stageEnv, prefix: host.prefix() });
      processes.add(process);
      history.push({ role: id, process });
      const replica = { id, stage, host, process, metricsUrl: `http://${host.ip}:${STAGE_METRICS_PORT}/metrics` };
      replicas.set(id, replica);
      return replica;
    };
    const launches = await Promise.allSettled(replicaIds.map((r) => startReplica(r.stage, r.id)));
    const failed = launches.find((l) => l.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const routerHost = net.host('router');
    const startRouter = async () => {
      const p = await startFslm(routerArgs(options, routerHost, stackFile, natsUrls), { env: options.routerEnv, prefix: routerHost.prefix() });
      processes.add(p);
      history.push({ role: 'router', process: p });
      return p;
    };
    const stack: HostStack = {
      net, nats, stackName, stackFile, replicas, routerHost, history,
      router: await startRouter(),
      grpc: `${routerHost.ip}:${ROUTER_GRPC_PORT}`,
      http: `${routerHost.ip}:${ROUTER_HTTP_PORT}`,
      client: () => {
        client ??= stackServiceClient(stack.grpc);
        return client;
      },
      replica: (id) => {
        const replica = replicas.get(id);
        if (!replica) throw new Error(`no replica ${id} (replicas: ${[...replicas.keys()].join(', ')})`);
        return replica;
      },
      killReplicaHost: async (id) => {
        const replica = stack.replica(id);
        await replica.host.kill();
        await replica.process.exited;
      },
      restartReplica: async (id) => {
        const replica = stack.replica(id);
        await replica.process.stop('SIGKILL');
        processes.delete(replica.process);
        return startReplica(replica.stage, id);
      },
      restartRouter: async (signal = 'SIGTERM', beforeStart) => {
        client?.close();
        client = null;
        await stack.router.stop(signal);
        processes.delete(stack.router);
        await beforeStart?.();
        stack.router = await startRouter();
        return stack.router;
      },
      stop,
    };
    return stack;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The stage's in-flight gauge (fslm_stage_requests_in_flight, summed over its doors) read from its /metrics. */
export async function stageInFlight(replica: StageReplica): Promise<number> {
  const text = await (await fetch(replica.metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
  const lines = [...text.matchAll(/^fslm_stage_requests_in_flight\w*(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/gm)];
  if (lines.length === 0) throw new Error(`${replica.id}'s /metrics has no fslm_stage_requests_in_flight line`);
  return lines.reduce((sum, m) => sum + Number(m[1]), 0);
}

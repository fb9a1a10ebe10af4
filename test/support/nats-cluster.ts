// A real NATS cluster on separate hosts: one nats-server (scripts/nats-server's build) per host, routes
// between all of them, an HTTP monitor on each (/connz tells which server a client is connected to).
// A server can be stopped (SIGTERM), killed (SIGKILL) and started again with the same configuration.
// With `trust`, every server serves TLS to clients and on routes (its own certificate for its host's
// address), and admits only the NKey users given, each with its per-subject permissions.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnChild, type Child } from '../../services/cli/up-processes.ts';
import { natsServerConfig, type NatsServerConfigOptions, type NatsServerTls } from '../../services/cli/nats-server-config.ts';
import type { Host } from './hosts.ts';
import { REPO_ROOT } from './models.ts';
import { waitFor } from './wait.ts';

export const NATS_CLIENT_PORT = 4222;
export const NATS_ROUTE_PORT = 6222;
export const NATS_MONITOR_PORT = 8222;

let binary: string | null = null;
/** The nats-server binary scripts/nats-server builds (once, cached under ~/.cache/fslm/bin). */
export function natsServerBinary(): string {
  binary ??= execFileSync(path.join(REPO_ROOT, 'scripts/nats-server'), [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  return binary;
}

/** One server of the cluster. */
export interface NatsNode {
  name: string;
  host: Host;
  /** nats://IP:4222 */
  url: string;
  monitor: string;
  running(): boolean;
  start(): Promise<void>;
  /** SIGTERM (nats-server closes its clients' connections and exits); SIGKILL with `kill`. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Names of the client connections it holds now. */
  clients(): Promise<string[]>;
  /** Its warning and error lines since it was first ready (every start). */
  warnings: string[];
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every client URL, comma-separated (what `--nats` takes). */
  urls: string;
  /** The server a client named `name` is connected to now, if any. */
  serverOf(name: string): Promise<NatsNode | undefined>;
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  /** Echo the servers' warnings and errors on stderr. */
  verbose?: boolean;
  /** TLS of the server on `host` (clients and routes; routes always verify each other) and the NKey users of every server. */
  trust?: { tls: (host: Host) => NatsServerTls; users: NonNullable<NatsServerConfigOptions['users']> };
}

/** Starts one server per host and waits until every server has routes to all the others. */
export async function startNatsCluster(hosts: Host[], options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const bin = natsServerBinary();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-nats-cluster-'));
  const nodes = hosts.map((host, i): NatsNode => {
    const name = `nats-${i + 1}`;
    const config = natsServerConfig({
      serverName: name,
      listen: `0.0.0.0:${NATS_CLIENT_PORT}`,
      monitor: `${host.ip}:${NATS_MONITOR_PORT}`,
      cluster: { name: 'fslm', listen: `0.0.0.0:${NATS_ROUTE_PORT}`, routes: hosts.filter((h) => h !== host).map((h) => `nats://${h.ip}:${NATS_ROUTE_PORT}`) },
      tls: options.trust?.tls(host),
      users: options.trust?.users,
    });
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    let child: Child | null = null;
    const warnings: string[] = [];
    const monitor = `http://${host.ip}:${NATS_MONITOR_PORT}`;
    return {
      name, host, url: `nats://${host.ip}:${NATS_CLIENT_PORT}`, monitor, warnings,
      running: () => child !== null && child.child.exitCode === null && child.child.signalCode === null,
      start: async () => {
        child = spawnChild({
          name, command: 'ip', args: ['netns', 'exec', host.netns, bin, '-c', file],
          readyWhen: (line) => (/Server is ready/.test(line) ? { event: 'ready' } : null),
          echo: (n, line) => {
            if (!/\[(ERR|FTL|WRN)\]/.test(line)) return;
            warnings.push(line);
            if (options.verbose) process.stderr.write(`[${n}] ${line}\n`);
          },
          timeoutMs: 30_000,
        });
        await child.ready;
      },
      stop: async (signal = 'SIGTERM') => {
        if (!child) return;
        if (signal === 'SIGKILL') child.child.kill('SIGKILL');
        await child.stop(5000);
      },
      clients: async () => {
        const connz = await (await fetch(`${monitor}/connz?limit=1024`, { signal: AbortSignal.timeout(5000) })).json() as { connections?: Array<{ name?: string }> };
        return (connz.connections ?? []).map((c) => c.name ?? '');
      },
    };
  });
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await waitRoutes(nodes);
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    serverOf: async (name) => {
      for (const node of nodes.filter((n) => n.running())) {
        if ((await node.clients().catch((): string[] => [])).includes(name)) return node;
      }
      return undefined;
    },
    stop: stopAll,
  };
}

/** Waits (bounded) until every running server has a route to every other running server. */
export async function waitRoutes(nodes: NatsNode[], timeoutMs = 30_000): Promise<void> {
  const running = nodes.filter((n) => n.running());
  await waitFor(async () => {
    for (const node of running) {
      const routez = await (await fetch(`${node.monitor}/routez`, { signal: AbortSignal.timeout(5000) })).json() as { routes?: Array<{ remote_name?: string }> };
      const peers = new Set<string>((routez.routes ?? []).map((r) => r.remote_name ?? ''));
      if (running.some((other) => other !== node && !peers.has(other.name))) return false;
    }
    return true;
  }, { timeoutMs, what: `routes between ${running.map((n) => n.name).join(', ')}`, intervalMs: 200 });
}

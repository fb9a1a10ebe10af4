// Separate hosts on this machine (scripts/netns-hosts): one network namespace per host on a private
// 10.231.X.0/24 joined by a bridge; this process is the clients' host and reaches them through the
// bridge's address. A host runs processes (`spawn`), dies (`kill`: SIGKILL to everything inside it) or
// freezes (`freeze`/`thaw`). `stop` removes everything; so does this process's exit, and a later run
// sweeps what a crashed one left (by the owner recorded for each run).
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './models.ts';

const run = promisify(execFile);
/** The script that makes and removes the namespaces. */
export const NETNS_HOSTS = path.join(REPO_ROOT, 'scripts/netns-hosts');

/** One host: a network namespace with its own address. */
export interface Host {
  name: string;
  /** Its address on the private network. */
  ip: string;
  netns: string;
  /** Starts `command args` inside the host (the ChildProcess's pid is the command's own). */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** The command prefix that runs a command inside the host (for spawners that take a command and arguments). */
  prefix(): string[];
  /** SIGKILL to every process inside the host; resolves when none is left. */
  kill(): Promise<void>;
  /** SIGSTOP to every process inside the host (heartbeats stop, sockets stay open). */
  freeze(): Promise<void>;
  /** SIGCONT to every process inside the host. */
  thaw(): Promise<void>;
  /** PIDs of the processes inside the host. */
  pids(): Promise<number[]>;
}

export interface HostNetwork {
  run: string;
  subnet: string;
  /** This process's address on the private network (the bridge's). */
  gateway: string;
  hosts: Map<string, Host>;
  host(name: string): Host;
  /** Kills every process on every host and removes the namespaces and the bridge. Idempotent. */
  stop(): Promise<void>;
}

interface UpOutput {
  run: string;
  subnet: string;
  gateway: string;
  hosts: Record<string, { netns: string; ip: string }>;
}

/**
 * Creates one host per name (lowercase labels). Throws with the script's message when it cannot (not
 * root, no free subnet); whatever it made is removed.
 */
export async function createHosts(names: string[]): Promise<HostNetwork> {
  const { stdout } = await run(NETNS_HOSTS, ['up', '--owner', String(process.pid), ...names], { timeout: 60_000 }).catch((error: { stderr?: string; message: string }) => {
    throw new Error(`cannot create hosts: ${error.stderr?.trim() || error.message}`);
  });
  const up = JSON.parse(stdout.trim().split('\n').pop()!) as UpOutput;
  let stopped = false;
  const downSync = () => {
    if (stopped) return;
    stopped = true;
    try {
      execFileSync(NETNS_HOSTS, ['down', up.run], { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // The next run's sweep removes what is left.
    }
  };
  // A test that fails, or a runner that exits early, still removes the hosts.
  process.once('exit', downSync);
  const hosts = new Map<string, Host>();
  for (const [name, { netns, ip }] of Object.entries(up.hosts)) {
    const signal = async (sig: 'KILL' | 'STOP' | 'CONT') => {
      await run(NETNS_HOSTS, ['signal', up.run, name, sig], { timeout: 30_000 });
    };
    hosts.set(name, {
      name, ip, netns,
      prefix: () => ['ip', 'netns', 'exec', netns],
      spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', netns, command, ...args], options),
      kill: () => signal('KILL'),
      freeze: () => signal('STOP'),
      thaw: () => signal('CONT'),
      pids: async () => (await run('ip', ['netns', 'pids', netns])).stdout.split('\n').filter(Boolean).map(Number),
    });
  }
  return {
    run: up.run, subnet: up.subnet, gateway: up.gateway, hosts,
    host: (name) => {
      const host = hosts.get(name);
      if (!host) throw new Error(`no host ${name} (hosts: ${[...hosts.keys()].join(', ')})`);
      return host;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', downSync);
      await run(NETNS_HOSTS, ['down', up.run], { timeout: 60_000 });
    },
  };
}

// The chaos run's faults, on a schedule: every `killEveryMs` a stage replica's host is killed (SIGKILL to
// all its processes; replicas in turn, never the last serving replica of a stage) and its stage started
// again at once (in the background: starting takes a while), and once, at `natsRestartAtMs`,
// the NATS server the router is connected to is stopped and started again. Each fault opens a window;
// requests are counted in the window they started in.
import type { HostStack } from '../test/support/host-stack.ts';
import { waitRoutes } from '../test/support/nats-cluster.ts';

export interface FaultWindow {
  label: string;
  /** Seconds since the load started. */
  atS: number;
  /** What the fault did, once it is over (e.g. "restarted in 4.2 s"). */
  detail: string;
}

export interface FaultOptions {
  durationMs: number;
  killEveryMs: number;
  /** When the NATS server is restarted (ms since the start); beyond the duration: never. */
  natsRestartAtMs: number;
  log(line: string): void;
}

export class FaultSchedule {
  readonly windows: FaultWindow[] = [{ label: 'steady', atS: 0, detail: 'no fault' }];
  private readonly startedAt = Date.now();
  private readonly stopping = new AbortController();

  constructor(private readonly stack: HostStack, private readonly options: FaultOptions) {}

  /** The window requests starting now belong to. */
  current(): number {
    return this.windows.length - 1;
  }

  /** Runs every fault due within the duration; resolves when the last one is over. */
  async run(): Promise<void> {
    await Promise.all([this.kills(), this.natsRestart()]);
  }

  /** Starts no further fault (one in progress finishes). */
  stop(): void {
    this.stopping.abort();
  }

  private open(label: string): FaultWindow {
    const window = { label, atS: Math.round((Date.now() - this.startedAt) / 100) / 10, detail: '' };
    this.windows.push(window);
    this.options.log(`t=${window.atS}s ${label}`);
    return window;
  }

  /** Resolves at `offsetMs` after the start, or false at once when stopped first. */
  private until(offsetMs: number): Promise<boolean> {
    const signal = this.stopping.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, Math.max(0, this.startedAt + offsetMs - Date.now()));
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async kills(): Promise<void> {
    const victims = [...this.stack.replicas.keys()].sort((a, b) => a.slice(a.lastIndexOf('-')).localeCompare(b.slice(b.lastIndexOf('-'))) || a.localeCompare(b));
    const down = new Set<string>();
    const restarts: Promise<void>[] = [];
    let next = 0;
    for (let k = 1; k * this.options.killEveryMs < this.options.durationMs; k++) {
      if (!(await this.until(k * this.options.killEveryMs))) break;
      // The next replica in turn whose stage has every other replica serving: a stage is never left without one.
      const id = Array.from({ length: victims.length }, (_, i) => victims[(next + i) % victims.length])
        .find((candidate) => ![...down].some((d) => d === candidate || this.stack.replica(d).stage === this.stack.replica(candidate).stage));
      if (!id) {
        this.open('kill skipped').detail = `every stage has a replica still starting (${[...down].join(', ')})`;
        continue;
      }
      next = (victims.indexOf(id) + 1) % victims.length;
      const window = this.open(`kill host ${id}`);
      const t0 = Date.now();
      down.add(id);
      await this.stack.killReplicaHost(id);
      restarts.push(this.stack.restartReplica(id).then(() => {
        window.detail = `SIGKILL to every process on ${id}; its stage served again after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
      }).finally(() => down.delete(id)));
    }
    await Promise.all(restarts);
  }

  private async natsRestart(): Promise<void> {
    if (this.options.natsRestartAtMs >= this.options.durationMs) return;
    if (!(await this.until(this.options.natsRestartAtMs))) return;
    const server = (await this.stack.nats.serverOf('fslm-router')) ?? this.stack.nats.nodes[0];
    const window = this.open(`restart ${server.name} (the router's NATS server)`);
    const t0 = Date.now();
    await server.stop();
    await server.start();
    await waitRoutes(this.stack.nats.nodes);
    window.detail = `stopped (SIGTERM) and started again; routes back after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
  }
}

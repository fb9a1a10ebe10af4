// A work queue keyed by object: FIFO, each key queued at most once, never processed by two workers at
// the same time (a key re-added while in flight runs again afterwards), with delayed adds for
// requeue-after and per-key exponential backoff for failures.

export const DEFAULT_QUEUE_WORKERS = 2;
export const DEFAULT_RETRY_BASE_MS = 250;
export const DEFAULT_RETRY_MAX_MS = 60_000;

export type Handler = (key: string) => Promise<{ requeueAfterMs?: number } | void>;

export interface WorkQueueOptions {
  workers?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  onError?: (key: string, error: unknown, retryInMs: number) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: (() => void)[] = [];
  private running = 0;
  private stopped = true;
  private handler: Handler | undefined;
  private readonly opts: Required<Omit<WorkQueueOptions, 'onError'>> & Pick<WorkQueueOptions, 'onError'>;

  constructor(opts: WorkQueueOptions = {}) {
    this.opts = {
      workers: opts.workers ?? DEFAULT_QUEUE_WORKERS,
      retryBaseMs: opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS,
      retryMaxMs: opts.retryMaxMs ?? DEFAULT_RETRY_MAX_MS,
      onError: opts.onError,
    };
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.inFlight.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds the key after `ms`; of two pending delayed adds for a key, the earlier wins. */
  addAfter(key: string, ms: number): void {
    if (ms <= 0) return this.add(key);
    const due = Date.now() + ms;
    const old = this.timers.get(key);
    if (old && old.due <= due) return;
    if (old) clearTimeout(old.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, Math.min(ms, 2 ** 31 - 1));
    timer.unref?.();
    this.timers.set(key, { timer, due });
  }

  start(handler: Handler): void {
    this.handler = handler;
    this.stopped = false;
    this.pump();
  }

  /** Stops taking work and waits for the keys in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    if (this.running > 0) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Resolves when nothing is queued or in flight (for tests). */
  async idle(): Promise<void> {
    while (this.queue.length > 0 || this.running > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private pump(): void {
    while (!this.stopped && this.handler && this.running < this.opts.workers && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.inFlight.add(key);
      this.running++;
      void this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    try {
      const result = await this.handler!(key);
      this.failures.delete(key);
      if (result && result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min(this.opts.retryBaseMs * 2 ** (n - 1), this.opts.retryMaxMs);
      this.opts.onError?.(key, error, delay);
      this.addAfter(key, delay);
    } finally {
      this.inFlight.delete(key);
      this.running--;
      if (this.dirty.delete(key)) this.add(key);
      if (this.running === 0) this.waiters.splice(0).forEach((w) => w());
      this.pump();
    }
  }
}

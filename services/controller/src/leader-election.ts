// Leader election through a coordination.k8s.io Lease, as client-go does it: the holder renews the
// lease every retry period; another replica takes it over only after it has seen the same record,
// unrenewed, for a whole lease duration (by its own clock, so clocks need not agree).
// A leader that has not renewed within the renew deadline stops leading AT that deadline, by a timer:
// a call to the API server that hangs cannot keep it acting (the call is aborted then), and every call
// has its own timeout too (half the renew deadline, at least 1 s, as client-go sets it).
import { V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { errorMessage } from '../../shared/errors.ts';
import { toDate } from './job-observation.ts';
import { kubeLeaseClient, type LeaseClient } from './lease-client.ts';

export const DEFAULT_LEASE_NAME = 'fslm-controller';
export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;
/** The shortest timeout of one Lease call. */
export const MIN_LEASE_CALL_TIMEOUT_MS = 1_000;

interface ElectionSettings {
  namespace: string;
  name?: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  /** Called once when a leader stops leading for any reason but stop(): lost or unrenewed lease. */
  onStoppedLeading: () => void;
  log?: (msg: string) => void;
}

/** The API server to campaign on: a kubeconfig (the real Lease), or a LeaseClient of one's own. */
export type LeaderElectionOptions = ElectionSettings & ({ kubeConfig: KubeConfig; leaseClient?: undefined } | { leaseClient: LeaseClient; kubeConfig?: undefined });

const code = (e: unknown): number | undefined => (e as { code?: number })?.code;

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves with `work`'s value, or with `fallback` as soon as `signal` aborts (the work is left to its own timeout). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal, fallback: T): Promise<T> {
  if (signal.aborted) return Promise.resolve(fallback);
  return new Promise((resolve) => {
    const onAbort = () => resolve(fallback);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, () => resolve(fallback)).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class LeaderElector {
  private readonly client: LeaseClient;
  private readonly o: Required<Omit<ElectionSettings, 'log'>> & Pick<ElectionSettings, 'log'>;
  private observedKey = '';
  private observedAt = 0;
  private stopped = false;
  /** Aborted by stop(): ends the campaign and any call in flight. */
  private readonly stopping = new AbortController();
  private leading = false;

  constructor(opts: LeaderElectionOptions) {
    this.o = {
      name: DEFAULT_LEASE_NAME, leaseDurationMs: DEFAULT_LEASE_DURATION_MS, renewDeadlineMs: DEFAULT_RENEW_DEADLINE_MS,
      retryPeriodMs: DEFAULT_RETRY_PERIOD_MS, ...opts,
    };
    const callTimeoutMs = Math.max(MIN_LEASE_CALL_TIMEOUT_MS, Math.floor(this.o.renewDeadlineMs / 2));
    this.client = opts.leaseClient ?? kubeLeaseClient(opts.kubeConfig, this.o.namespace, this.o.name, callTimeoutMs);
  }

  /** True from acquiring the lease until the renew deadline passes unrenewed, the lease is lost, or stop(). */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns until it leads, then renews until it loses the lease, misses its renew deadline, or stop() is called. */
  async run(): Promise<void> {
    const stopping = this.stopping.signal;
    let acquiredAt = Date.now();
    while (!this.stopped) {
      acquiredAt = Date.now();
      if (await unlessAborted(this.tryAcquireOrRenew(stopping), stopping, false)) break;
      await pause(this.o.retryPeriodMs, stopping);
    }
    if (this.stopped) return;
    this.leading = true;
    this.o.log?.(`leader election: ${this.o.identity} acquired lease ${this.o.namespace}/${this.o.name}`);
    this.o.onStartedLeading();
    // Aborted when this replica stops leading: at the renew deadline (by the timer), or by stop().
    const term = new AbortController();
    const onStop = () => term.abort();
    stopping.addEventListener('abort', onStop, { once: true });
    let deadline: NodeJS.Timeout | undefined;
    const renewBy = (renewedAt: number) => {
      clearTimeout(deadline);
      deadline = setTimeout(() => {
        this.o.log?.(`leader election: ${this.o.identity} did not renew within ${this.o.renewDeadlineMs}ms; stepping down`);
        term.abort();
      }, Math.max(0, renewedAt + this.o.renewDeadlineMs - Date.now()));
    };
    renewBy(acquiredAt);
    while (!term.signal.aborted) {
      await pause(this.o.retryPeriodMs, term.signal);
      if (term.signal.aborted) break;
      const sentAt = Date.now();
      if (await unlessAborted(this.tryAcquireOrRenew(term.signal), term.signal, false)) renewBy(sentAt);
    }
    clearTimeout(deadline);
    stopping.removeEventListener('abort', onStop);
    this.leading = false;
    if (!this.stopped) this.o.onStoppedLeading();
  }

  /** Stops campaigning; a leader gives the lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    const wasLeading = this.leading;
    this.stopped = true;
    this.leading = false;
    this.stopping.abort();
    if (!wasLeading) return;
    // A fresh signal: these calls are bounded by the client's own timeout.
    const release = new AbortController().signal;
    try {
      const lease = await this.client.read(release);
      if (lease.spec?.holderIdentity !== this.o.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: new V1MicroTime(Date.now()) };
      await this.client.replace(lease, release);
    } catch (e) {
      this.o.log?.(`leader election: releasing the lease failed: ${errorMessage(e)}`);
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = new V1MicroTime(Date.now());
    const durationS = Math.ceil(this.o.leaseDurationMs / 1000);
    let lease: V1Lease;
    try {
      lease = await this.client.read(signal);
    } catch (e) {
      if (code(e) !== 404) return this.fail('read', e);
      try {
        await this.client.create({
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: { holderIdentity: this.o.identity, leaseDurationSeconds: durationS, acquireTime: now, renewTime: now, leaseTransitions: 0 },
        }, signal);
        return true;
      } catch (e2) {
        return this.fail('create', e2);
      }
    }
    if (signal.aborted) return false;
    const spec = lease.spec ?? {};
    const key = `${spec.holderIdentity ?? ''}|${toDate(spec.renewTime)?.getTime() ?? ''}|${spec.leaseDurationSeconds ?? ''}`;
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = Date.now();
    }
    const holder = spec.holderIdentity ?? '';
    const heldByOther = holder !== '' && holder !== this.o.identity;
    const leaseMs = (spec.leaseDurationSeconds ?? durationS) * 1000;
    if (heldByOther && this.observedAt + leaseMs > Date.now()) return false;
    const takingOver = holder !== this.o.identity;
    lease.spec = {
      ...spec,
      holderIdentity: this.o.identity,
      leaseDurationSeconds: durationS,
      renewTime: now,
      acquireTime: takingOver ? now : spec.acquireTime,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && holder !== '' ? 1 : 0),
    };
    try {
      await this.client.replace(lease, signal);
      return true;
    } catch (e) {
      return this.fail('update', e);
    }
  }

  private fail(what: string, e: unknown): false {
    if (code(e) !== 409) this.o.log?.(`leader election: ${what} lease ${this.o.namespace}/${this.o.name}: ${errorMessage(e)}`);
    return false;
  }
}

// Leader election through a coordination.k8s.io Lease, as client-go does it: the holder renews the
// lease every retry period; another replica takes it over only after it has seen the same record,
// unrenewed, for a whole lease duration (by its own clock, so clocks need not agree). A leader that
// cannot renew within the renew deadline stops leading.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { errorMessage } from '../../shared/errors.ts';
import { toDate } from './job-observation.ts';

export const DEFAULT_LEASE_NAME = 'fslm-controller';
export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name?: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log?: (msg: string) => void;
}

const code = (e: unknown): number | undefined => (e as { code?: number })?.code;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly o: Required<Omit<LeaderElectionOptions, 'log'>> & Pick<LeaderElectionOptions, 'log'>;
  private observedKey = '';
  private observedAt = 0;
  private stopped = false;
  private leading = false;

  constructor(opts: LeaderElectionOptions) {
    this.api = opts.kubeConfig.makeApiClient(CoordinationV1Api);
    this.o = {
      name: DEFAULT_LEASE_NAME, leaseDurationMs: DEFAULT_LEASE_DURATION_MS, renewDeadlineMs: DEFAULT_RENEW_DEADLINE_MS,
      retryPeriodMs: DEFAULT_RETRY_PERIOD_MS, ...opts,
    };
  }

  /** Campaigns until it leads, then renews until it loses the lease or stop() is called. */
  async run(): Promise<void> {
    while (!this.stopped) {
      if (await this.tryAcquireOrRenew()) break;
      await sleep(this.o.retryPeriodMs);
    }
    if (this.stopped) return;
    this.leading = true;
    this.o.log?.(`leader election: ${this.o.identity} acquired lease ${this.o.namespace}/${this.o.name}`);
    this.o.onStartedLeading();
    let lastRenew = Date.now();
    while (!this.stopped) {
      await sleep(this.o.retryPeriodMs);
      if (this.stopped) break;
      if (await this.tryAcquireOrRenew()) lastRenew = Date.now();
      else if (Date.now() - lastRenew > this.o.renewDeadlineMs) {
        this.o.log?.(`leader election: ${this.o.identity} could not renew within ${this.o.renewDeadlineMs}ms; stepping down`);
        break;
      }
    }
    this.leading = false;
    if (!this.stopped) this.o.onStoppedLeading();
  }

  /** Stops campaigning; a leader gives the lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.api.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace });
      if (lease.spec?.holderIdentity !== this.o.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: new V1MicroTime(Date.now()) };
      await this.api.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body: lease });
    } catch (e) {
      this.o.log?.(`leader election: releasing the lease failed: ${errorMessage(e)}`);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new V1MicroTime(Date.now());
    const durationS = Math.ceil(this.o.leaseDurationMs / 1000);
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace });
    } catch (e) {
      if (code(e) !== 404) return this.fail('read', e);
      try {
        await this.api.createNamespacedLease({ namespace: this.o.namespace, body: {
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: { holderIdentity: this.o.identity, leaseDurationSeconds: durationS, acquireTime: now, renewTime: now, leaseTransitions: 0 },
        } });
        return true;
      } catch (e2) {
        return this.fail('create', e2);
      }
    }
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
      await this.api.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body: lease });
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

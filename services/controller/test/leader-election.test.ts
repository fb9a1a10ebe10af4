// Leader election is pure logic over three Lease calls, tested here with a Lease client double on
// mocked timers (setTimeout and Date): a leader steps down at its renew deadline by its own timer, even
// when the renew call it sent never returns. (The calls' own timeouts: api-timeout.test.ts.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Lease } from '@kubernetes/client-node';
import { LeaderElector } from '../src/leader-election.ts';
import type { LeaseClient } from '../src/lease-client.ts';

/** Lets pending promise callbacks run (setImmediate is not among the mocked timers). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/**
 * A Lease client double: an in-memory Lease that answers at once, until `hang` is set; from then on
 * every call hangs forever, ignoring its abort signal (a stuck connection), and is recorded as pending.
 */
class HangingLeaseClientDouble implements LeaseClient {
  lease: V1Lease | undefined;
  hang = false;
  readonly pending: Array<{ call: string; signal: AbortSignal }> = [];
  readonly calls: string[] = [];

  private answer<T>(call: string, signal: AbortSignal, value: () => T): Promise<T> {
    this.calls.push(call);
    if (this.hang) {
      this.pending.push({ call, signal });
      return new Promise<T>(() => undefined);
    }
    try {
      return Promise.resolve(value());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  read(signal: AbortSignal): Promise<V1Lease> {
    return this.answer('read', signal, () => {
      if (!this.lease) throw Object.assign(new Error('not found'), { code: 404 });
      return structuredClone(this.lease);
    });
  }

  create(lease: V1Lease, signal: AbortSignal): Promise<V1Lease> {
    return this.answer('create', signal, () => {
      if (this.lease) throw Object.assign(new Error('exists'), { code: 409 });
      this.lease = structuredClone(lease);
      return lease;
    });
  }

  replace(lease: V1Lease, signal: AbortSignal): Promise<V1Lease> {
    return this.answer('replace', signal, () => {
      this.lease = structuredClone(lease);
      return lease;
    });
  }
}

const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function elector(client: LeaseClient) {
  const events: string[] = [];
  const e = new LeaderElector({
    leaseClient: client, namespace: 'default', identity: 'replica-a', ...TIMING,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
  });
  return { e, events };
}

describe('leader election', { timeout: 30_000 }, () => {
  test('a leader whose renew call hangs stops leading at its renew deadline, with the call still pending', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const client = new HangingLeaseClientDouble();
    const { e, events } = elector(client);
    let ran = false;
    const running = e.run().then(() => (ran = true));
    await settle();
    assert.deepEqual(events, ['started'], 'it acquired the free lease at once');
    assert.equal(e.isLeader, true);
    client.hang = true;
    t.mock.timers.tick(TIMING.retryPeriodMs);
    await settle();
    assert.equal(client.pending.length, 1, 'the first renew (a read) was sent and hangs');
    t.mock.timers.tick(TIMING.renewDeadlineMs - TIMING.retryPeriodMs - 1);
    await settle();
    assert.equal(e.isLeader, true, 'one millisecond before its renew deadline it still leads');
    assert.deepEqual(events, ['started']);
    t.mock.timers.tick(1);
    await settle();
    assert.equal(e.isLeader, false, 'at the renew deadline it stops leading');
    assert.deepEqual(events, ['started', 'stopped']);
    assert.equal(ran, true, 'run() returned although the renew call never did');
    assert.equal(client.pending.length, 1);
    assert.equal(client.pending[0].signal.aborted, true, 'the hung call was told to give up');
    await running;
  });

  test('a leader that renews keeps leading past many renew deadlines, and stop() hands the lease back', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const client = new HangingLeaseClientDouble();
    const { e, events } = elector(client);
    const running = e.run();
    await settle();
    for (let i = 0; i < 30; i++) {
      t.mock.timers.tick(TIMING.retryPeriodMs);
      await settle();
    }
    assert.equal(e.isLeader, true);
    assert.deepEqual(events, ['started']);
    assert.ok(client.calls.filter((c) => c === 'replace').length >= 29, `renewed every retry period: ${client.calls.join(',')}`);
    await e.stop();
    await running;
    assert.equal(client.lease?.spec?.holderIdentity, undefined, 'the lease was released');
    assert.deepEqual(events, ['started'], 'stop() is not a lost lease');
  });

  test('a candidate whose calls hang never starts leading, and stop() ends its campaign', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const client = new HangingLeaseClientDouble();
    client.hang = true;
    const { e, events } = elector(client);
    const running = e.run();
    await settle();
    t.mock.timers.tick(TIMING.leaseDurationMs * 2);
    await settle();
    assert.deepEqual(events, []);
    await e.stop();
    await running;
    assert.equal(client.pending[0].signal.aborted, true);
  });
});

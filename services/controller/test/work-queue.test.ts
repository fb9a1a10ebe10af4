import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../src/work-queue.ts';

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets pending promise callbacks run (setImmediate is not among the mocked timers). */
const settle = () => new Promise((r) => setImmediate(r));

test('a key added many times while queued is processed once', { timeout: 30_000 }, async () => {
  const q = new WorkQueue();
  const seen: string[] = [];
  for (let i = 0; i < 5; i++) q.add('ns/a');
  q.add('ns/b');
  q.start(async (k) => void seen.push(k));
  await q.idle();
  assert.deepEqual(seen, ['ns/a', 'ns/b']);
  await q.stop();
});

test('a key is never processed by two workers at once, and an add during processing runs it again after', { timeout: 10_000 }, async () => {
  const q = new WorkQueue({ workers: 4 });
  const entered = signal();
  const release = signal();
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  q.start(async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    runs++;
    entered.resolve();
    await release.promise;
    running--;
  });
  q.add('ns/a');
  await entered.promise;
  q.add('ns/a');
  q.add('ns/a');
  release.resolve();
  await q.idle();
  assert.equal(maxRunning, 1);
  assert.equal(runs, 2);
  await q.stop();
});

test('a failing key is retried with growing backoff; requeueAfter re-adds it', { timeout: 30_000 }, async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const errors: number[] = [];
  const q = new WorkQueue({ retryBaseMs: 5, onError: (_k, _e, ms) => errors.push(ms) });
  let calls = 0;
  q.start(async () => {
    calls++;
    if (calls <= 3) throw new Error('boom');
    if (calls === 4) return { requeueAfterMs: 10 };
  });
  q.add('ns/a');
  await settle();
  // Each wait is one tick short of due, then due: the handler runs exactly when the backoff ends.
  for (const [wait, callsAfter] of [[5, 2], [10, 3], [20, 4], [10, 5]]) {
    t.mock.timers.tick(wait - 1);
    await settle();
    assert.equal(calls, callsAfter - 1, `not before ${wait} ms`);
    t.mock.timers.tick(1);
    await settle();
    assert.equal(calls, callsAfter, `after ${wait} ms`);
  }
  assert.deepEqual(errors, [5, 10, 20]);
  t.mock.timers.tick(60_000);
  await settle();
  assert.equal(calls, 5, 'a success without requeueAfter is not retried');
  await q.stop();
});

test('of two delayed adds for a key the earlier one wins', { timeout: 30_000 }, async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const q = new WorkQueue();
  let calls = 0;
  q.start(async () => void calls++);
  q.addAfter('ns/a', 200);
  q.addAfter('ns/a', 20);
  q.addAfter('ns/a', 500);
  t.mock.timers.tick(19);
  await settle();
  assert.equal(calls, 0);
  t.mock.timers.tick(1);
  await settle();
  assert.equal(calls, 1, 'the 20 ms add runs at 20 ms');
  t.mock.timers.tick(1000);
  await settle();
  assert.equal(calls, 1, 'the later adds were dropped');
  await q.stop();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../src/work-queue.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a key added many times while queued is processed once', async () => {
  const q = new WorkQueue();
  const seen: string[] = [];
  for (let i = 0; i < 5; i++) q.add('ns/a');
  q.add('ns/b');
  q.start(async (k) => void seen.push(k));
  await q.idle();
  assert.deepEqual(seen, ['ns/a', 'ns/b']);
  await q.stop();
});

test('a key is never processed by two workers at once, and an add during processing runs it again after', async () => {
  const q = new WorkQueue({ workers: 4 });
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  q.start(async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    runs++;
    await sleep(20);
    running--;
  });
  q.add('ns/a');
  await sleep(5);
  q.add('ns/a');
  q.add('ns/a');
  await sleep(80);
  await q.idle();
  assert.equal(maxRunning, 1);
  assert.equal(runs, 2);
  await q.stop();
});

test('a failing key is retried with growing backoff; requeueAfter re-adds it', async () => {
  const errors: number[] = [];
  const q = new WorkQueue({ retryBaseMs: 5, onError: (_k, _e, ms) => errors.push(ms) });
  let calls = 0;
  q.start(async () => {
    calls++;
    if (calls <= 3) throw new Error('boom');
    if (calls === 4) return { requeueAfterMs: 10 };
  });
  q.add('ns/a');
  await sleep(150);
  assert.deepEqual(errors, [5, 10, 20]);
  assert.equal(calls, 5);
  await q.stop();
});

test('of two delayed adds for a key the earlier one wins', async () => {
  const q = new WorkQueue();
  const seen: number[] = [];
  const t0 = Date.now();
  q.start(async () => void seen.push(Date.now() - t0));
  q.addAfter('ns/a', 200);
  q.addAfter('ns/a', 20);
  q.addAfter('ns/a', 500);
  await sleep(300);
  assert.equal(seen.length, 1);
  assert.ok(seen[0] < 150, String(seen[0]));
  await q.stop();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalRunStore } from '../src/local-store.ts';
import { RunBuilder } from './support/builders.ts';

const fresh = () => new LocalRunStore(mkdtempSync(path.join(tmpdir(), 'fslm-store-')));

test('a claimed run is held by this process until released, and its status reads back', { timeout: 30_000 }, async () => {
  const store = fresh();
  await store.claim('demo', false);
  assert.equal((await store.executor('demo'))?.pid, process.pid);
  const run = new RunBuilder('demo').status({ phase: 'Running', progress: '0/2' }).build();
  await store.write(run);
  assert.deepEqual(await store.read('demo'), run);
  assert.deepEqual(await store.listRuns(), ['demo']);
  await assert.rejects(store.claim('demo', true), /is running \(executor pid/);
  await store.release('demo');
  assert.equal(await store.executor('demo'), undefined);
});

test('an existing run is refused without --replace, and deleted with it', { timeout: 30_000 }, async () => {
  const store = fresh();
  await store.claim('demo', false);
  await store.write(new RunBuilder('demo').status({ phase: 'Succeeded' }).build());
  await store.release('demo');
  await assert.rejects(store.claim('demo', false), /already exists .*phase Succeeded.*--replace/);
  writeFileSync(path.join(store.runDir('demo'), 'old-file'), 'x');
  await store.claim('demo', true);
  assert.equal(existsSync(path.join(store.runDir('demo'), 'old-file')), false);
  assert.equal(await store.read('demo'), undefined);
});

test('a run whose executor died is not held', { timeout: 30_000 }, async () => {
  const store = fresh();
  await store.claim('demo', false);
  writeFileSync(path.join(store.runDir('demo'), 'executor.json'), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), startedAt: '' }));
  assert.equal(await store.executor('demo'), undefined);
});

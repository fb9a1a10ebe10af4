// The executor loop with real (tiny node) child processes, in this process, so every status it writes can be inspected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveSpec } from '../src/defaults.ts';
import { LocalExecutor } from '../src/local-executor.ts';
import { startAttempt } from '../src/local-attempt.ts';
import { attemptEnv } from '../src/local-stage.ts';
import { LocalRunStore } from '../src/local-store.ts';
import type { AttemptRecord } from '../src/plan.ts';
import type { StackTrainingRun, StageSpec } from '../src/types.ts';
import { RunBuilder, stage } from './support/builders.ts';

/** A stage whose process runs `node -e SCRIPT`. */
const nodeStage = (name: string, script: string, dependsOn: string[] = []): StageSpec =>
  stage(name, dependsOn, { command: [process.execPath, '-e', script] });

async function execute(run: StackTrainingRun, parallel = Infinity) {
  const store = new LocalRunStore(mkdtempSync(path.join(tmpdir(), 'fslm-executor-')));
  const written: StackTrainingRun[] = [];
  const write = store.write.bind(store);
  store.write = async (r) => { written.push(structuredClone(r)); await write(r); };
  await store.claim(run.metadata.name, false);
  const spec = resolveSpec(run.spec, run.metadata.name);
  const executor: LocalExecutor = new LocalExecutor({
    run, spec, store, parallel,
    launch: (s, start, onReport) => startAttempt({ stage: s.name, attempt: start.attempt, command: s.command, env: attemptEnv(executor.run, s, process.env),
      logFile: store.attemptLog(run.metadata.name, s.name, start.attempt), terminationFile: store.terminationFile(run.metadata.name, s.name, start.attempt),
      deadlineSeconds: start.deadlineSeconds, killGraceMs: 500 }, onReport),
  });
  const done = await executor.execute();
  return { done, written, onDisk: await store.read(run.metadata.name) };
}

const phases = (r: StackTrainingRun) => Object.fromEntries((r.status?.stages ?? []).map((s) => [s.name, s.phase]));

test('stages follow dependsOn, and a stage without a free slot waits as Pending with reason WaitingForSlot', { timeout: 30_000 }, async () => {
  const quick = 'setTimeout(() => {}, 150)';
  const run = new RunBuilder('order', [nodeStage('a', quick), nodeStage('b', quick), nodeStage('c', quick, ['a', 'b'])]).build();
  const { done, written, onDisk } = await execute(run, 1);
  assert.equal(done.status?.phase, 'Succeeded');
  assert.deepEqual(onDisk, done);
  const first = written[0];
  assert.deepEqual(phases(first), { a: 'Running', b: 'Pending', c: 'Pending' });
  const b = first.status!.stages!.find((s) => s.name === 'b')!;
  assert.equal(b.reason, 'WaitingForSlot');
  assert.equal(first.status!.stages!.find((s) => s.name === 'c')!.reason, 'WaitingForStages');
  // No status ever shows c running before a and b succeeded, or two stages running at once.
  for (const w of written) {
    const p = phases(w);
    if (p.c !== 'Pending') assert.ok(p.a === 'Succeeded' && p.b === 'Succeeded', JSON.stringify(p));
    assert.ok(Object.values(p).filter((x) => x === 'Running').length <= 1, JSON.stringify(p));
  }
  assert.ok(written.length < 20, `status written only when it changed (${written.length} writes)`);
});

test('a failed attempt waits out its backoff as Retrying, then the retry succeeds', { timeout: 30_000 }, async () => {
  // Fails on its first attempt only, leaving a marker file.
  const script = `const fs = require('fs'); const m = process.env.MARK; if (!fs.existsSync(m)) { fs.writeFileSync(m, ''); process.exit(1); }`;
  const run = new RunBuilder('retry', [stage('a', [], { command: [process.execPath, '-e', script], env: [{ name: 'MARK', value: path.join(mkdtempSync(path.join(tmpdir(), 'fslm-mark-')), 'm') }] })])
    .spec({ retry: { limit: 1, backoffSeconds: 1, maxBackoffSeconds: 1, nonRetryableExitCodes: [2] } }).build();
  const { done, written } = await execute(run);
  const retrying = written.map((w) => w.status!.stages![0]).find((s) => s.phase === 'Retrying');
  assert.ok(retrying?.nextAttemptTime, 'a Retrying status with its next attempt time');
  assert.equal(retrying.lastExitCode, 1);
  const a = done.status!.stages![0];
  assert.deepEqual([a.phase, a.attempts, a.lastExitCode, a.job], ['Succeeded', 2, 0, 'retry-a-2']);
});

test('an attempt that ends while the status is being written is seen on the next evaluation, not taken for a stuck run', { timeout: 30_000 }, async () => {
  // a and b run together, c after both. Each status write ends one attempt while it is in flight: the
  // plan evaluated before the write that ends b still shows b running and nothing to start, yet nothing
  // is live once that write returns.
  const run = new RunBuilder('stale', [stage('a', []), stage('b', []), stage('c', ['a', 'b'])]).build();
  const store = new LocalRunStore(mkdtempSync(path.join(tmpdir(), 'fslm-executor-')));
  await store.claim(run.metadata.name, false);
  const finishers: (() => void)[] = [];
  const write = store.write.bind(store);
  store.write = async (r) => {
    await write(r);
    finishers.shift()?.();
  };
  const executor = new LocalExecutor({
    run, spec: resolveSpec(run.spec, run.metadata.name), store, parallel: Infinity,
    launch: async (s, start) => {
      let finish!: () => void;
      const done = new Promise<AttemptRecord>((resolve) => {
        finish = () => resolve({ attempt: start.attempt, state: 'succeeded', startedAt: new Date(), finishedAt: new Date(), exitCode: 0 });
      });
      finishers.push(finish);
      return { stage: s.name, attempt: start.attempt, startedAt: new Date(), pid: undefined, progress: undefined, metrics: undefined, done, stop: finish, kill: finish };
    },
  });
  const done = await executor.execute();
  assert.equal(done.status?.phase, 'Succeeded');
  assert.deepEqual(phases(done), { a: 'Succeeded', b: 'Succeeded', c: 'Succeeded' });
});

// `fslm train --local` when things go wrong: retries with backoff up to the limit, non-retryable exit
// codes (the real trainer refusing its input), deadlines, Ctrl-C, --parallel, an invalid RUN.yaml.
// Stages that must fail or hang on cue run a small node command (the spec's `command`), as real child
// processes; the trainer itself is never imitated.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { testModels } from '../support/models.ts';
import { waitFor } from '../support/wait.ts';
import { LocalRunBuilder, fslm, ms, readRun, stageOf, tempDir } from './support/local-run.ts';

let dir: string;
const state = (): string => path.join(dir, 'state');
before(() => { dir = tempDir('local-failures'); }, { timeout: 10_000 });
after(() => rmSync(dir, { recursive: true, force: true }), { timeout: 30_000 });

/** A stage that runs `node -e SCRIPT`, with $OUT pointing at the test's directory. */
const nodeStage = (script: string) => ({
  baseModel: 'none', dataset: 'none.jsonl', command: [process.execPath, '-e', script], env: [{ name: 'OUT', value: '' }],
});
const withOut = (s: ReturnType<typeof nodeStage>) => ({ ...s, env: [{ name: 'OUT', value: dir }] });
const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

test('a failing stage is retried with backoff up to the limit, then the run fails and its sibling is cancelled', { timeout: 120_000 }, async () => {
  const flaky = `const fs = require('fs'); fs.appendFileSync(process.env.OUT + '/flaky.times', Date.now() + '\\n');
    fs.writeFileSync(process.env.OUT + '/flaky.env', JSON.stringify(process.env)); console.error('boom: flaky failure'); process.exit(3);`;
  const file = new LocalRunBuilder('retries')
    .with({ retry: { limit: 2, backoffSeconds: 1, maxBackoffSeconds: 1 } })
    .stage('flaky', withOut(nodeStage(flaky)))
    .stage('slow', withOut(nodeStage('setTimeout(() => {}, 120000)')))
    .write(dir);
  const res = await fslm(['train', '--local', file, '--state-dir', state(), '--kill-grace', '2s'], { timeoutMs: 100_000 });
  assert.equal(res.code, 1, res.stderr);

  const run = readRun(state(), 'retries');
  assert.equal(run.status?.phase, 'Failed');
  assert.equal(run.status?.reason, 'StageFailed');
  const f = stageOf(run, 'flaky');
  assert.equal(f.phase, 'Failed');
  assert.equal(f.reason, 'BackoffLimitExceeded');
  assert.equal(f.attempts, 3);
  assert.equal(f.lastExitCode, 3);
  assert.match(f.message!, /boom: flaky failure/);
  assert.equal(readFileSync(path.join(dir, 'flaky.times'), 'utf8').trim().split('\n').length, 3, 'three processes ran');
  // The status keeps only the first attempt's start and the last one's finish: they enclose two 1s backoffs.
  const span = Date.parse(f.finishTime!) - Date.parse(f.startTime!);
  assert.ok(span >= 2000, `attempts 1 to 3 took ${span}ms, less than their two 1s backoffs`);
  const s = stageOf(run, 'slow');
  assert.equal(s.phase, 'Cancelled');
  assert.match(s.message!, /attempt 1 stopped/);
  // The trainer contract reaches a custom command too, with the local output.
  const env = JSON.parse(readFileSync(path.join(dir, 'flaky.env'), 'utf8'));
  assert.equal(env.FSLM_STAGE, 'flaky');
  assert.equal(env.FSLM_RUN, 'retries');
  assert.equal(env.FSLM_OUTPUT, `file://${path.join(state(), 'runs', 'retries', 'flaky', 'model')}`);
  assert.equal(env.FSLM_DATASET, `file://${path.join(dir, 'none.jsonl')}`);
  assert.match(env.TRACEPARENT, new RegExp(`^00-${run.status!.traceparent!.split('-')[1]}-`));
});

test('a non-retryable exit code from the real trainer fails the stage at once', { timeout: 300_000 }, async () => {
  const file = new LocalRunBuilder('bad-input')
    .with({ retry: { limit: 3, backoffSeconds: 1 } })
    .stage('a', { baseModel: testModels('tiny').tiny, dataset: 'missing.jsonl', maxSteps: 2 })
    .write(dir);
  const res = await fslm(['train', '--local', file, '--state-dir', state()], { timeoutMs: 240_000 });
  assert.equal(res.code, 1, res.stderr);
  const a = stageOf(readRun(state(), 'bad-input'), 'a');
  assert.equal(a.phase, 'Failed');
  assert.equal(a.reason, 'NonRetryableExitCode');
  assert.equal(a.attempts, 1);
  assert.equal(a.lastExitCode, 2);
  assert.match(a.message!, /missing\.jsonl/);
});

test('a stage past its deadline is stopped and not retried', { timeout: 60_000 }, async () => {
  const file = new LocalRunBuilder('deadline')
    .with({ retry: { limit: 3, backoffSeconds: 1 } })
    .stage('hang', { ...nodeStage('setTimeout(() => {}, 120000)'), activeDeadlineSeconds: 1 })
    .write(dir);
  const res = await fslm(['train', '--local', file, '--state-dir', state(), '--kill-grace', '1s'], { timeoutMs: 45_000 });
  assert.equal(res.code, 1, res.stderr);
  const run = readRun(state(), 'deadline');
  assert.equal(run.status?.reason, 'DeadlineExceeded');
  const h = stageOf(run, 'hang');
  assert.equal(h.phase, 'Failed');
  assert.equal(h.reason, 'DeadlineExceeded');
  assert.equal(h.attempts, 1);
});

test('Ctrl-C stops every stage process and records the run as interrupted', { timeout: 60_000 }, async () => {
  const sleeper = (n: string) => withOut(nodeStage(`require('fs').writeFileSync(process.env.OUT + '/${n}.pid', String(process.pid)); setTimeout(() => {}, 120000);`));
  const file = new LocalRunBuilder('interrupt').stage('x', sleeper('x')).stage('y', sleeper('y')).write(dir);
  let sent = false;
  const res = await fslm(['train', '--local', file, '--state-dir', state(), '--kill-grace', '2s'], {
    timeoutMs: 45_000,
    onSpawn: (kill) => {
      // Ctrl-C once both stage processes have written their pid; if they never do, end the run.
      waitFor(() => existsSync(path.join(dir, 'x.pid')) && existsSync(path.join(dir, 'y.pid')), { what: 'both stage processes to start', timeoutMs: 30_000 })
        .then(() => {
          sent = true;
          kill('SIGINT');
        }, () => kill('SIGKILL'));
    },
  });
  assert.ok(sent, res.stderr);
  assert.equal(res.code, 130, res.stderr);
  const run = readRun(state(), 'interrupt');
  assert.equal(run.status?.phase, 'Failed');
  assert.equal(run.status?.reason, 'Interrupted');
  assert.match(run.status!.message!, /SIGINT/);
  for (const n of ['x', 'y']) {
    const s = stageOf(run, n);
    assert.equal(s.phase, 'Cancelled');
    assert.match(s.message!, /interrupted by SIGINT/);
    assert.ok(s.finishTime);
    assert.equal(alive(Number(readFileSync(path.join(dir, `${n}.pid`), 'utf8'))), false, `${n} was stopped`);
  }
  const status = await fslm(['status', 'interrupt', '--state-dir', state()], { timeoutMs: 30_000 });
  assert.match(status.stdout, /interrupt\s+Failed\s+0\/2/);
});

test('--parallel 1 runs independent stages one at a time', { timeout: 120_000 }, async () => {
  const quick = nodeStage('setTimeout(() => {}, 300)');
  const file = new LocalRunBuilder('serial').stage('p', quick).stage('q', quick).write(dir);
  const res = await fslm(['train', '--local', file, '--state-dir', state(), '--parallel', '1'], { timeoutMs: 30_000 });
  assert.equal(res.code, 0, res.stderr);
  const run = readRun(state(), 'serial');
  const [p, q] = [stageOf(run, 'p'), stageOf(run, 'q')];
  assert.ok(ms(p.finishTime) <= ms(q.startTime), 'q waits for the only slot');

  const again = await fslm(['train', '--local', file, '--state-dir', state()], { timeoutMs: 30_000 });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists.*--replace/);
  const replaced = await fslm(['train', '--local', file, '--state-dir', state(), '--replace'], { timeoutMs: 30_000 });
  assert.equal(replaced.code, 0, replaced.stderr);
});

test('an invalid RUN.yaml is rejected with exit 2 and every bad field named', { timeout: 60_000 }, async () => {
  const file = path.join(dir, 'broken.yaml');
  writeFileSync(file, `apiVersion: fslm.dev/v1alpha1
kind: StackTrainingRun
metadata: {name: Broken_Run}
spec:
  retry: {limit: -1, backoffSeconds: 30, maxBackoffSeconds: 10}
  stages:
  - {name: a, baseModel: tiny, dataset: a.jsonl, dependsOn: [b], lora: {rank: 0}}
  - {name: b, baseModel: tiny, dataset: b.jsonl, dependsOn: [a], dependOn: [a]}
  - {name: c, dataset: c.jsonl, maxSteps: many}
`);
  const res = await fslm(['train', '--local', file, '--state-dir', state()], { timeoutMs: 30_000 });
  assert.equal(res.code, 2);
  for (const field of ['metadata.name', 'spec.retry.limit', 'spec.retry.maxBackoffSeconds', 'spec.stages[0].lora.rank',
    'spec.stages[1].dependOn: unknown field', 'spec.stages[2].baseModel: required', 'spec.stages[2].maxSteps', 'dependsOn has a cycle']) {
    assert.ok(res.stderr.includes(field), `stderr names ${field}:\n${res.stderr}`);
  }
  assert.equal(existsSync(path.join(state(), 'runs', 'Broken_Run')), false);
});

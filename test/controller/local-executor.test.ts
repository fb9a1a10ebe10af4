// `fslm train --local` end to end with the real trainer: a tiny 3-stage run (a and b independent, c
// after both) fine-tunes the tiny test model for a few steps per stage, in the operator's plan order,
// with a and b at the same time; `fslm status` then shows it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testModels } from '../support/models.ts';
import { LocalRunBuilder, fslm, ms, readRun, stageOf, tempDir, writeDataset } from './support/local-run.ts';

const STEPS = 3;
let dir: string;
let stateDir: string;
let tinyDir: string;

before(() => {
  tinyDir = testModels('tiny').tiny;
  dir = tempDir('local-e2e');
  stateDir = path.join(dir, 'state');
  for (const s of ['a', 'b', 'c']) writeDataset(dir, s);
}, { timeout: 30 * 60_000 }); // builds the tiny model when scripts/models has not yet
after(() => rmSync(dir, { recursive: true, force: true }), { timeout: 30_000 });

test('a tiny run trains end to end: dependsOn is followed and independent stages run in parallel', { timeout: 600_000 }, async () => {
  const lora = { rank: 4, alpha: 8, dropout: 0, targetModules: ['all-linear'] };
  const file = new LocalRunBuilder('tiny-e2e')
    .with({ template: { env: [{ name: 'FSLM_THREADS', value: '1' }] }, retry: { limit: 1, backoffSeconds: 1 } })
    .stage('a', { maxSteps: STEPS, lora })
    .stage('b', { maxSteps: STEPS, lora })
    .stage('c', { dependsOn: ['a', 'b'], baseModel: tinyDir, maxSteps: STEPS, lora })
    .write(dir);

  const res = await fslm(['train', '--local', file, '--state-dir', stateDir], { timeoutMs: 540_000 });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /tiny-e2e\s+Succeeded\s+3\/3/);

  const run = readRun(stateDir, 'tiny-e2e');
  const st = run.status!;
  assert.equal(st.phase, 'Succeeded');
  assert.equal(st.progress, '3/3');
  assert.equal(st.conditions?.find((c) => c.type === 'Succeeded')?.status, 'True');
  assert.match(st.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const traceId = st.traceparent!.split('-')[1];

  const [a, b, c] = ['a', 'b', 'c'].map((n) => stageOf(run, n));
  // a and b overlap in time; c starts only after both finished.
  assert.ok(ms(a.startTime) < ms(b.finishTime) && ms(b.startTime) < ms(a.finishTime), `a and b overlap: ${JSON.stringify([a, b].map((s) => [s.startTime, s.finishTime]))}`);
  assert.ok(ms(c.startTime) >= Math.max(ms(a.finishTime), ms(b.finishTime)), 'c starts after a and b');

  for (const s of [a, b, c]) {
    assert.equal(s.phase, 'Succeeded');
    assert.equal(s.attempts, 1);
    assert.equal(s.lastExitCode, 0);
    assert.equal(s.job, `tiny-e2e-${s.name}-1`);
    assert.equal(s.progress?.step, STEPS);
    assert.equal(s.progress?.total, STEPS);
    assert.equal(s.metrics?.steps, STEPS);
    assert.ok(Number.isFinite(s.metrics?.train_loss), 'train_loss metric');
    const model = fileURLToPath(s.outputs!.model);
    assert.equal(model, path.join(stateDir, 'runs', 'tiny-e2e', s.name, 'model'));
    const manifest = JSON.parse(readFileSync(path.join(model, 'fslm.json'), 'utf8'));
    assert.equal(manifest.trace_id, traceId, 'the trainer got the run trace id through TRACEPARENT');
    assert.ok(existsSync(path.join(model, 'onnx', 'model.onnx')));
    assert.ok(existsSync(path.join(stateDir, 'runs', 'tiny-e2e', s.name, 'attempt-1.log')));
  }

  const table = await fslm(['status', '--state-dir', stateDir], { timeoutMs: 30_000 });
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^NAME\s+PHASE\s+PROGRESS\s+AGE/);
  assert.match(table.stdout, /tiny-e2e\s+Succeeded\s+3\/3/);
  const detail = await fslm(['status', 'tiny-e2e', '--state-dir', stateDir], { timeoutMs: 30_000 });
  assert.match(detail.stdout, /^c\s+Succeeded\s+1\s+0\s+3\/3/m);
  const json = await fslm(['status', 'tiny-e2e', '--state-dir', stateDir, '--json'], { timeoutMs: 30_000 });
  assert.deepEqual(JSON.parse(json.stdout), run);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTrainerLine, startAttempt, type AttemptSpec } from '../src/local-attempt.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fslm-attempt-'));
let n = 0;
function spec(script: string, extra: Partial<AttemptSpec> = {}): AttemptSpec {
  n++;
  return { stage: 's', attempt: n, command: [process.execPath, '-e', script], env: { ...process.env },
    logFile: path.join(dir, `a-${n}.log`), terminationFile: path.join(dir, `a-${n}.term`), killGraceMs: 1000, ...extra };
}

test('trainer lines: step and eval events merge into progress, the result line gives metrics, the rest is ignored', { timeout: 30_000 }, () => {
  const step = readTrainerLine('{"event":"step","stage":"a","step":2,"total":5,"loss":1.5,"tokens_per_s":100,"eta_s":3}');
  assert.deepEqual(step, { progress: { step: 2, total: 5, loss: 1.5, tokensPerSecond: 100, etaSeconds: 3 } });
  assert.deepEqual(readTrainerLine('{"event":"eval","step":2,"eval_loss":1.25}', step.progress), {
    progress: { step: 2, total: 5, loss: 1.5, tokensPerSecond: 100, etaSeconds: 3, evalLoss: 1.25 } });
  assert.deepEqual(readTrainerLine('{"event":"phase","phase":"loading","step":0}'), {});
  assert.deepEqual(readTrainerLine('{"out":"/m","metrics":{"train_loss":0.5,"note":"x"}}'), { metrics: { train_loss: 0.5 } });
  assert.deepEqual(readTrainerLine('not json'), {});
  assert.deepEqual(readTrainerLine('{"out":"/m"}'), {});
});

test('a successful attempt reports progress as it runs, then the termination message\'s metrics', { timeout: 30_000 }, async () => {
  let changes = 0;
  const a = await startAttempt(spec(`console.log(JSON.stringify({event: 'step', step: 1, total: 2, loss: 2}));
    require('fs').writeFileSync(process.env.FSLM_TERMINATION_LOG, JSON.stringify({stage: 's', train_loss: 0.25}));
    console.log(JSON.stringify({out: '/m', metrics: {train_loss: 9}}));`), () => changes++);
  const rec = await a.done;
  assert.equal(rec.state, 'succeeded');
  assert.equal(rec.exitCode, 0);
  assert.ok(rec.startedAt && rec.finishedAt && rec.finishedAt >= rec.startedAt);
  assert.deepEqual(a.progress, { step: 1, total: 2, loss: 2 });
  assert.deepEqual(a.metrics, { train_loss: 0.25 });
  assert.ok(changes >= 1);
  assert.match(readFileSync(path.join(dir, `a-${n}.log`), 'utf8'), /"event":"step"/);
});

test('a failed attempt keeps its exit code, and the error from its termination message or stderr', { timeout: 30_000 }, async () => {
  const viaStderr = await (await startAttempt(spec(`console.error('traceback...'); console.error('ValueError: bad'); process.exit(3)`), () => {})).done;
  assert.deepEqual([viaStderr.state, viaStderr.exitCode, viaStderr.reason, viaStderr.message], ['failed', 3, 'Error', 'ValueError: bad']);
  const viaTermination = await (await startAttempt(spec(`require('fs').writeFileSync(process.env.FSLM_TERMINATION_LOG, JSON.stringify({error: 'data: missing', exit_code: 2})); process.exit(2)`), () => {})).done;
  assert.deepEqual([viaTermination.exitCode, viaTermination.message], [2, 'data: missing']);
  const killed = await (await startAttempt(spec(`process.kill(process.pid, 'SIGKILL')`), () => {})).done;
  assert.deepEqual([killed.exitCode, killed.message], [137, 'killed by SIGKILL']);
  const missing = await (await startAttempt(spec('', { command: [path.join(dir, 'no-such-program')] }), () => {})).done;
  assert.deepEqual([missing.state, missing.exitCode, missing.reason], ['failed', 127, 'StartError']);
});

test('a stopped attempt ends suspended; one past its deadline fails for good, even if it ignores SIGTERM', { timeout: 30_000 }, async () => {
  const a = await startAttempt(spec('setTimeout(() => {}, 60000)'), () => {});
  a.stop('run failed');
  const stopped = await a.done;
  assert.deepEqual([stopped.state, stopped.suspended, stopped.message], ['active', true, 'run failed']);
  const stubborn = await startAttempt(spec(`process.on('SIGTERM', () => {}); setTimeout(() => {}, 60000)`, { deadlineSeconds: 0.2 }), () => {});
  const late = await stubborn.done;
  assert.deepEqual([late.state, late.nonRetryable, late.reason], ['failed', true, 'DeadlineExceeded']);
  assert.match(late.message!, /deadline/);
});

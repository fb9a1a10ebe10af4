import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttemptRecord, PlanInput } from '../src/plan.ts';
import { backoffSeconds, evaluatePlan, progressOf } from '../src/plan.ts';
import { DEFAULT_RETRY } from '../src/defaults.ts';
import { at } from './support/builders.ts';

const retry = { ...DEFAULT_RETRY, limit: 2, backoffSeconds: 10, maxBackoffSeconds: 60 };
const chain = [{ name: 'a', dependsOn: [] }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['a'] }, { name: 'd', dependsOn: ['b', 'c'] }];

function input(attempts: Record<string, AttemptRecord[]>, extra: Partial<PlanInput> = {}): PlanInput {
  return { stages: chain, retry, attempts: new Map(Object.entries(attempts)), now: at(100), suspend: false, ...extra };
}
const ok = (attempt = 1, finished = 50): AttemptRecord => ({ attempt, state: 'succeeded', startedAt: at(finished - 10), finishedAt: at(finished) });
const failed = (attempt: number, finished: number, extra: Partial<AttemptRecord> = {}): AttemptRecord =>
  ({ attempt, state: 'failed', startedAt: at(finished - 5), finishedAt: at(finished), exitCode: 1, reason: 'Error', ...extra });
const active = (attempt = 1, started = 90): AttemptRecord => ({ attempt, state: 'active', startedAt: at(started) });

test('a new run starts only the stages without dependencies', { timeout: 30_000 }, () => {
  const e = evaluatePlan(input({}));
  assert.deepEqual(e.start, [{ stage: 'a', attempt: 1, deadlineSeconds: undefined }]);
  assert.equal(e.phase, 'Running');
  assert.deepEqual(e.stages.map((s) => s.phase), ['Running', 'Pending', 'Pending', 'Pending']);
  assert.equal(e.stages[3].message, 'waiting for b, c');
});

test('stages whose dependencies succeeded start together, in spec order', { timeout: 30_000 }, () => {
  const e = evaluatePlan(input({ a: [ok()] }));
  assert.deepEqual(e.start.map((s) => s.stage), ['b', 'c']);
  assert.equal(progressOf(e), '1/4');
});

test('a stage with one unfinished dependency keeps waiting', { timeout: 30_000 }, () => {
  const e = evaluatePlan(input({ a: [ok()], b: [ok()], c: [active()] }));
  assert.deepEqual(e.start, []);
  assert.equal(e.stages[3].phase, 'Pending');
  assert.equal(e.stages[3].message, 'waiting for c');
});

test('all stages succeeded means the run succeeded', { timeout: 30_000 }, () => {
  const e = evaluatePlan(input({ a: [ok()], b: [ok()], c: [ok()], d: [ok()] }));
  assert.equal(e.phase, 'Succeeded');
  assert.equal(e.reason, 'AllStagesSucceeded');
  assert.equal(progressOf(e), '4/4');
});

test('a failed attempt waits out its backoff, then the next attempt starts', { timeout: 30_000 }, () => {
  const waiting = evaluatePlan(input({ a: [failed(1, 95)] }));
  assert.equal(waiting.stages[0].phase, 'Retrying');
  assert.deepEqual(waiting.stages[0].nextAttemptTime, at(105));
  assert.deepEqual(waiting.requeueAt, at(105));
  assert.deepEqual(waiting.start, []);
  const due = evaluatePlan(input({ a: [failed(1, 95)] }, { now: at(105) }));
  assert.deepEqual(due.start, [{ stage: 'a', attempt: 2, deadlineSeconds: undefined }]);
});

test('backoff doubles per failure and is capped', { timeout: 30_000 }, () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffSeconds(retry, n)), [10, 20, 40, 60, 60]);
});

test('a stage that fails past its retry limit fails the run with the reason', { timeout: 30_000 }, () => {
  const e = evaluatePlan(input({ a: [failed(1, 10), failed(2, 30), failed(3, 90)] }));
  assert.equal(e.stages[0].phase, 'Failed');
  assert.equal(e.stages[0].reason, 'BackoffLimitExceeded');
  assert.equal(e.phase, 'Failed');
  assert.equal(e.reason, 'StageFailed');
  assert.match(e.message, /stage a failed \(BackoffLimitExceeded\): failed 3 attempt\(s\), retry limit 2; last: exit code 1/);
  assert.deepEqual(e.stages.slice(1).map((s) => s.phase), ['Cancelled', 'Cancelled', 'Cancelled']);
});

test('a non-retryable exit code fails the stage at once', { timeout: 30_000 }, () => {
  const byCode = evaluatePlan(input({ a: [failed(1, 90, { exitCode: 2 })] }));
  assert.equal(byCode.stages[0].reason, 'NonRetryableExitCode');
  assert.equal(byCode.phase, 'Failed');
  const byPolicy = evaluatePlan(input({ a: [failed(1, 90, { exitCode: 42, nonRetryable: true, reason: 'NonRetryableExitCode' })] }));
  assert.equal(byPolicy.phase, 'Failed');
  assert.equal(byPolicy.start.length, 0);
});

test('when one stage fails, running siblings are cancelled', { timeout: 30_000 }, () => {
  const e = evaluatePlan(input({ a: [ok()], b: [failed(1, 90, { exitCode: 2 })], c: [active()] }));
  assert.deepEqual(e.cancel, [{ stage: 'c', attempt: 1 }]);
  assert.equal(e.stages[2].phase, 'Cancelled');
});

test('suspend stops new starts and suspends running attempts; resume undoes it', { timeout: 30_000 }, () => {
  const s = evaluatePlan(input({ a: [ok()], b: [active()] }, { suspend: true }));
  assert.equal(s.phase, 'Suspended');
  assert.deepEqual(s.start, []);
  assert.deepEqual(s.setSuspended, [{ stage: 'b', attempt: 1, suspend: true }]);
  assert.equal(s.stages[1].phase, 'Suspended');
  assert.equal(s.startTime, undefined, 'the run deadline pauses');
  const r = evaluatePlan(input({ a: [ok()], b: [{ ...active(), suspended: true }] }));
  assert.deepEqual(r.setSuspended, [{ stage: 'b', attempt: 1, suspend: false }]);
  assert.deepEqual(r.start.map((x) => x.stage), ['c']);
});

test('the run deadline fails the run and bounds each new attempt', { timeout: 30_000 }, () => {
  const started = evaluatePlan(input({ a: [ok()] }, { startTime: at(0), activeDeadlineSeconds: 300 }));
  assert.deepEqual(started.start.map((s) => s.deadlineSeconds), [200, 200]);
  assert.deepEqual(started.requeueAt, at(300));
  const late = evaluatePlan(input({ a: [ok()], b: [active()] }, { startTime: at(0), activeDeadlineSeconds: 60 }));
  assert.equal(late.phase, 'Failed');
  assert.equal(late.reason, 'DeadlineExceeded');
  assert.deepEqual(late.cancel, [{ stage: 'b', attempt: 1 }]);
});

test('a stage deadline counts from its first attempt across retries', { timeout: 30_000 }, () => {
  const stages = [{ name: 'a', dependsOn: [], activeDeadlineSeconds: 60 }];
  const retrying = evaluatePlan(input({ a: [failed(1, 30, { startedAt: at(20) })] }, { stages, now: at(45) }));
  assert.deepEqual(retrying.start, [{ stage: 'a', attempt: 2, deadlineSeconds: 35 }]);
  const late = evaluatePlan(input({ a: [active(1, 20)] }, { stages, now: at(81) }));
  assert.equal(late.stages[0].reason, 'DeadlineExceeded');
  assert.equal(late.phase, 'Failed');
  assert.equal(late.reason, 'DeadlineExceeded');
});

test('a finished run stays finished and starts nothing', { timeout: 30_000 }, () => {
  const e = evaluatePlan(input({}, { previous: { phase: 'Failed', reason: 'StageFailed', message: 'x' } }));
  assert.equal(e.phase, 'Failed');
  assert.deepEqual(e.start, []);
});

test('an invalid graph fails the run without starting anything', { timeout: 30_000 }, () => {
  const e = evaluatePlan(input({}, { stages: [{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }] }));
  assert.equal(e.phase, 'Failed');
  assert.equal(e.reason, 'InvalidSpec');
  assert.match(e.message, /cycle: a -> b -> a/);
});

test("the caller's spec problems fail the run as InvalidSpec after the graph's, unless it already finished", { timeout: 30_000 }, () => {
  const stages = [{ name: 'a', dependsOn: ['nope'] }];
  const e = evaluatePlan(input({}, { stages, specProblems: ['spec.stages[0].image: no image'] }));
  assert.deepEqual([e.phase, e.reason, e.start], ['Failed', 'InvalidSpec', []]);
  assert.match(e.message, /^spec\.stages\[0\]\.dependsOn.*nope.*; spec\.stages\[0\]\.image: no image$/);
  const done = evaluatePlan(input({}, { specProblems: ['x'], previous: { phase: 'Succeeded', reason: 'AllStagesSucceeded', message: 'ok' } }));
  assert.deepEqual([done.phase, done.reason, done.message], ['Succeeded', 'AllStagesSucceeded', 'ok']);
});

test('the same input gives the same plan', { timeout: 30_000 }, () => {
  const i = input({ a: [ok()], b: [failed(1, 95)], c: [active()] });
  assert.deepEqual(evaluatePlan(i), evaluatePlan(i));
});

test('an attempt whose pod has not started says why, and fails its stage with that reason after the start timeout', () => {
  const waiting = { ...active(1, 90), notStarted: { reason: 'FailedCreate', message: 'serviceaccount "fslm-trainer" not found' } };
  const early = evaluatePlan(input({ a: [waiting] }, { startTimeoutSeconds: 30 }));
  assert.equal(early.phase, 'Running');
  assert.deepEqual([early.stages[0].phase, early.stages[0].reason, early.stages[0].message], ['Running', 'FailedCreate', 'serviceaccount "fslm-trainer" not found']);
  assert.deepEqual(early.requeueAt, at(120));
  const late = evaluatePlan(input({ a: [waiting] }, { startTimeoutSeconds: 30, now: at(120) }));
  assert.equal(late.phase, 'Failed');
  assert.equal(late.stages[0].reason, 'FailedCreate');
  assert.match(late.stages[0].message!, /attempt 1 did not start within 30s: serviceaccount "fslm-trainer" not found/);
  assert.deepEqual(late.cancel, [{ stage: 'a', attempt: 1 }]);
  assert.match(late.message, /stage a failed \(FailedCreate\)/);
});

test('a started attempt is not timed out', () => {
  const e = evaluatePlan(input({ a: [active(1, 0)] }, { startTimeoutSeconds: 30 }));
  assert.deepEqual([e.phase, e.stages[0].phase, e.stages[0].reason], ['Running', 'Running', undefined]);
});

// Failure handling on the real control plane: retries with backoff up to the limit, non-retryable
// exit codes (caught by the Job's pod failure policy), cycles beyond what CEL checks, deadlines,
// suspend/resume and TTL. KWOK pod stages stand in for a failing trainer (scripts/k8s/kwok-stages).
// The file starts its own control plane and controller; each test applies its own run, so any test
// runs alone or in any order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerProcess } from './support/controller-process.ts';
import { waitFor } from '../support/wait.ts';
import { K8S_BEFORE_TIMEOUT_MS, SKIP_K8S, TestEnv, getRun, installFslm, waitForPhase } from './support/testenv.ts';

let env: TestEnv;
let controller: ControllerProcess;
before(async () => {
  if (SKIP_K8S) return;
  env = await TestEnv.start('failures');
  await installFslm(env);
  controller = ControllerProcess.start({ kubeconfig: env.controllerKubeconfig, identity: 'ctl-f' });
  await controller.waitForLog('caches synced; reconciling');
}, { timeout: K8S_BEFORE_TIMEOUT_MS });
after(async () => {
  await controller?.kill();
  await env?.stop();
}, { timeout: 120_000 });
const K8S = { skip: SKIP_K8S, timeout: 180_000 };

function apply(name: string, opts: { annotations?: Record<string, string>; spec?: string; stages?: string } = {}) {
  const ann = JSON.stringify(opts.annotations ?? {});
  return env.kubectl(['apply', '-f', '-'], { input: `apiVersion: fslm.dev/v1alpha1
kind: StackTrainingRun
metadata: {name: ${name}}
spec:
  template:
    image: trainer:1
    annotations: ${ann}
    nodeSelector: {fslm.dev/gpu-node: "true"}
    tolerations: [{key: nvidia.com/gpu, operator: Exists}]
${opts.spec ?? ''}
  stages:
${opts.stages ?? '  - {name: a, baseModel: m, dataset: d}'}
` });
}

const jobsOf = async (run: string) => (await env.json(['get', 'jobs', '-l', `fslm.dev/run=${run}`])).items;
const releasePods = async (run: string) => {
  const pods = (await env.json(['get', 'pods', '-l', `fslm.dev/run=${run}`])).items.filter((p: any) => p.status.phase === 'Running' && p.metadata.annotations?.['kwok.fslm.dev/hold']);
  for (const p of pods) await env.kubectl(['annotate', 'pod', p.metadata.name, 'kwok.fslm.dev/hold-'], { allowFail: true });
  return pods.length;
};

test('a failing stage is retried with growing backoff up to its limit, then the run fails with a reason', K8S, async () => {
  await apply('flaky', { annotations: { 'kwok.fslm.dev/exit-code': '1' }, spec: '  retry: {limit: 2, backoffSeconds: 1, maxBackoffSeconds: 8}' });
  const r = await waitForPhase(env, 'flaky', ['Failed', 'Succeeded'], 60_000);
  assert.equal(r.status.phase, 'Failed');
  assert.equal(r.status.reason, 'StageFailed');
  assert.match(r.status.message, /stage a failed \(BackoffLimitExceeded\): failed 3 attempt\(s\), retry limit 2; last: exit code 1/);
  const a = r.status.stages[0];
  assert.deepEqual([a.phase, a.attempts, a.lastExitCode, a.job], ['Failed', 3, 1, 'flaky-a-3']);
  assert.equal(r.status.conditions.find((c: any) => c.type === 'Failed').status, 'True');
  const jobs = (await jobsOf('flaky')).sort((x: any, y: any) => x.metadata.name.localeCompare(y.metadata.name));
  assert.deepEqual(jobs.map((j: any) => j.metadata.name), ['flaky-a-1', 'flaky-a-2', 'flaky-a-3']);
  assert.equal(controller.logs('created job').filter((l) => l.run === 'default/flaky').length, 3);
  // The backoff as the Jobs record it (server times, the ones the controller counts from): each retry is
  // created no earlier than the previous attempt's failure plus the doubled backoff.
  const failedAt = (j: any) => Date.parse(j.status.conditions.find((c: any) => c.type === 'Failed' && c.status === 'True').lastTransitionTime);
  const createdAt = (j: any) => Date.parse(j.metadata.creationTimestamp);
  [1000, 2000].forEach((backoffMs, i) => {
    const gap = createdAt(jobs[i + 1]) - failedAt(jobs[i]);
    assert.ok(gap >= backoffMs, `retry ${i + 1} created ${gap}ms after attempt ${i + 1} failed; backoff is ${backoffMs}ms`);
  });
  assert.match((await env.kubectl(['get', 'str', 'flaky', '--no-headers'])).stdout, /flaky\s+Failed\s+0\/1/);
});

test('a non-retryable exit code fails the run at once', K8S, async () => {
  await apply('bad-input', { annotations: { 'kwok.fslm.dev/exit-code': '2' }, spec: '  retry: {limit: 5, backoffSeconds: 1}' });
  const r = await waitForPhase(env, 'bad-input', ['Failed', 'Succeeded']);
  assert.equal(r.status.phase, 'Failed');
  const a = r.status.stages[0];
  assert.deepEqual([a.attempts, a.reason, a.lastExitCode], [1, 'NonRetryableExitCode', 2]);
  const [job] = await jobsOf('bad-input');
  assert.equal(job.status.conditions.find((c: any) => c.type === 'Failed').reason, 'PodFailurePolicy');
  await apply('custom-code', { annotations: { 'kwok.fslm.dev/exit-code': '42' }, spec: '  retry: {limit: 5, backoffSeconds: 1, nonRetryableExitCodes: [42]}' });
  const c = await waitForPhase(env, 'custom-code', ['Failed', 'Succeeded']);
  assert.deepEqual([c.status.phase, c.status.stages[0].attempts, c.status.stages[0].lastExitCode], ['Failed', 1, 42]);
});

test('a cycle longer than the CEL rules check is caught by the controller', K8S, async () => {
  const stages = ['a:e', 'b:a', 'c:b', 'd:c', 'e:d'].map((e) => `  - {name: ${e[0]}, baseModel: m, dataset: d, dependsOn: [${e[2]}]}`).join('\n');
  await apply('loop5', { stages });
  const r = await waitForPhase(env, 'loop5', ['Failed']);
  assert.equal(r.status.reason, 'InvalidSpec');
  assert.match(r.status.message, /dependsOn has a cycle: a -> e -> d -> c -> b -> a/);
  assert.equal((await jobsOf('loop5')).length, 0);
});

test('suspend stops the running Job\'s pod; resuming finishes the run', K8S, async () => {
  await apply('pausable', { annotations: { 'kwok.fslm.dev/hold': 'true' }, stages: '  - {name: a, baseModel: m, dataset: d}\n  - {name: b, baseModel: m, dataset: d, dependsOn: [a]}' });
  await waitFor(async () => (await env.json(['get', 'pods', '-l', 'fslm.dev/run=pausable'])).items.some((p: any) => p.status.phase === 'Running'),
    { what: 'a running pod', timeoutMs: 30_000 });
  await env.kubectl(['patch', 'str', 'pausable', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
  const s = await waitForPhase(env, 'pausable', ['Suspended']);
  assert.equal(s.status.stages[0].phase, 'Suspended');
  assert.equal(s.status.conditions.find((c: any) => c.type === 'Suspended').status, 'True');
  await waitFor(async () => {
    const [j] = await jobsOf('pausable');
    const pods = (await env.json(['get', 'pods', '-l', 'fslm.dev/run=pausable'])).items;
    return j.spec.suspend === true && pods.length === 0;
  }, { what: 'the Job suspended and its pod gone', timeoutMs: 30_000 });
  assert.match((await env.kubectl(['get', 'str', 'pausable', '--no-headers'])).stdout, /pausable\s+Suspended\s+0\/2/);
  await env.kubectl(['patch', 'str', 'pausable', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
  const done = await waitFor(async () => {
    await releasePods('pausable');
    const r = await getRun(env, 'pausable');
    return r.status?.phase === 'Succeeded' ? r : undefined;
  }, { what: 'pausable to succeed after resume', timeoutMs: 60_000, intervalMs: 300 });
  assert.equal(done.status.progress, '2/2');
  assert.equal((await jobsOf('pausable')).length, 2, 'resumed the same Job, no new attempt');
});

test('the whole-run deadline fails the run and stops its Job', K8S, async () => {
  await apply('slow', { annotations: { 'kwok.fslm.dev/hold': 'true' }, spec: '  activeDeadlineSeconds: 3' });
  const r = await waitForPhase(env, 'slow', ['Failed', 'Succeeded'], 60_000);
  assert.equal(r.status.reason, 'DeadlineExceeded');
  // Whichever notices first: the controller's clock (stage Cancelled) or the Job's own activeDeadlineSeconds,
  // which the controller set to the time left (stage Failed, DeadlineExceeded).
  const a = r.status.stages[0];
  assert.ok(a.phase === 'Cancelled' || (a.phase === 'Failed' && a.reason === 'DeadlineExceeded'), JSON.stringify(a));
  const [job] = await jobsOf('slow');
  assert.equal(job.spec.activeDeadlineSeconds <= 3, true);
  await waitFor(async () => {
    const [j] = await jobsOf('slow');
    return j.spec.suspend === true || j.status.conditions?.some((c: any) => c.type === 'Failed' && c.status === 'True');
  }, { what: 'the stage Job to stop', timeoutMs: 30_000 });
});

test('ttlSecondsAfterFinished deletes the finished run and, by garbage collection, its Jobs', K8S, async () => {
  await apply('short-lived', { spec: '  ttlSecondsAfterFinished: 2' });
  await waitForPhase(env, 'short-lived', ['Succeeded']);
  await waitFor(async () => (await env.kubectl(['get', 'str', 'short-lived'], { allowFail: true })).code !== 0, { what: 'the run to be deleted', timeoutMs: 30_000 });
  await waitFor(async () => (await jobsOf('short-lived')).length === 0, { what: 'its Jobs to be collected', timeoutMs: 30_000 });
});

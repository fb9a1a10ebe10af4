// The controller dies and comes back, and two replicas compete: no duplicate Jobs, the status
// converges, and only the Lease holder acts. The file starts its own control plane; each test starts
// its own controllers and stops them when it ends, and reads the Lease relative to where it found it,
// so any test runs alone or after the other.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../support/wait.ts';
import { ControllerProcess } from './support/controller-process.ts';
import { K8S_BEFORE_TIMEOUT_MS, SKIP_K8S, TestEnv, getRun, installFslm } from './support/testenv.ts';

let env: TestEnv;
const procs: ControllerProcess[] = [];
const start = (identity: string) => {
  const p = ControllerProcess.start({ kubeconfig: env.controllerKubeconfig, identity });
  procs.push(p);
  return p;
};
before(async () => {
  if (SKIP_K8S) return;
  env = await TestEnv.start('restart');
  await installFslm(env);
}, { timeout: K8S_BEFORE_TIMEOUT_MS });
afterEach(async () => {
  for (const p of procs.splice(0)) await p.kill('SIGKILL');
}, { timeout: 60_000 });
after(async () => env?.stop(), { timeout: 120_000 });
const K8S = { skip: SKIP_K8S, timeout: 240_000 };

const chain = (name: string) => env.kubectl(['apply', '-f', '-'], { input: `apiVersion: fslm.dev/v1alpha1
kind: StackTrainingRun
metadata: {name: ${name}}
spec:
  template:
    image: trainer:1
    annotations: {kwok.fslm.dev/hold: "true"}
    nodeSelector: {fslm.dev/gpu-node: "true"}
    tolerations: [{key: nvidia.com/gpu, operator: Exists}]
  stages:
  - {name: a, baseModel: m, dataset: d}
  - {name: b, baseModel: m, dataset: d, dependsOn: [a]}
  - {name: c, baseModel: m, dataset: d, dependsOn: [b]}
` });
const jobsOf = async (run: string) => (await env.json(['get', 'jobs', '-l', `fslm.dev/run=${run}`])).items as any[];
const runningPods = async (run: string) => (await env.json(['get', 'pods', '-l', `fslm.dev/run=${run}`])).items.filter((p: any) => p.status.phase === 'Running');
const release = async (run: string) => {
  for (const p of await runningPods(run)) await env.kubectl(['annotate', 'pod', p.metadata.name, 'kwok.fslm.dev/hold-'], { allowFail: true });
};
const lease = () => env.json(['get', 'lease', 'fslm-controller', '-n', 'fslm-system']);
const finish = (run: string) => waitFor(async () => {
  await release(run);
  const r = await getRun(env, run);
  return r.status?.phase === 'Succeeded' ? r : undefined;
}, { what: `${run} to succeed`, timeoutMs: 60_000, intervalMs: 300 });

test('killed mid-run and restarted: no duplicate Jobs, and the status converges', K8S, async () => {
  const first = start('ctl-1');
  await first.waitForLog('caches synced; reconciling');
  await chain('restart-demo');
  await waitFor(async () => (await runningPods('restart-demo')).length === 1, { what: 'stage a running', timeoutMs: 30_000 });
  await first.kill('SIGKILL');
  // Stage a finishes while no controller runs.
  await release('restart-demo');
  await waitFor(async () => (await jobsOf('restart-demo'))[0]?.status?.succeeded === 1, { what: 'job a complete', timeoutMs: 30_000 });
  const second = start('ctl-2');
  await second.waitForLog('caches synced; reconciling', 20_000);
  const done = await finish('restart-demo');
  assert.deepEqual((await jobsOf('restart-demo')).map((j) => j.metadata.name).sort(), ['restart-demo-a-1', 'restart-demo-b-1', 'restart-demo-c-1']);
  assert.deepEqual(second.logs('created job').map((l) => l.stage), ['b', 'c']);
  assert.equal(done.status.progress, '3/3');
  assert.deepEqual(done.status.stages.map((s: any) => [s.name, s.phase, s.attempts, s.traced]), [['a', 'Succeeded', 1, true], ['b', 'Succeeded', 1, true], ['c', 'Succeeded', 1, true]]);
  // A clean shutdown hands the lease back at once.
  assert.equal(await second.kill('SIGTERM'), 0);
  assert.equal((await lease()).spec.holderIdentity, undefined);
});

test('two replicas: only the Lease holder acts, and the other takes over when it dies', K8S, async () => {
  const a = start('replica-a');
  const b = start('replica-b');
  const leader = await waitFor(() => [a, b].find((p) => p.logs('caches synced; reconciling').length > 0), { what: 'a leader', timeoutMs: 20_000 });
  const follower = leader === a ? b : a;
  assert.equal((await lease()).spec.holderIdentity, leader.identity);
  await chain('ha-demo');
  await waitFor(async () => (await runningPods('ha-demo')).length === 1, { what: 'stage a running', timeoutMs: 30_000 });
  await release('ha-demo');
  await waitFor(async () => (await runningPods('ha-demo')).length === 1 && (await jobsOf('ha-demo')).length === 2, { what: 'stage b running', timeoutMs: 30_000 });
  const before = await jobsOf('ha-demo');
  assert.ok(before.every((j) => j.metadata.annotations['fslm.dev/created-by'] === leader.identity));
  assert.equal(follower.logs('caches synced; reconciling').length, 0, 'the follower never started working');
  assert.equal(follower.logs('created job').length, 0);

  const transitions = (await lease()).spec.leaseTransitions ?? 0;
  await leader.kill('SIGKILL');
  await follower.waitForLog('caches synced; reconciling', 20_000);
  const done = await finish('ha-demo');
  const jobs = await jobsOf('ha-demo');
  assert.deepEqual(jobs.map((j) => j.metadata.name).sort(), ['ha-demo-a-1', 'ha-demo-b-1', 'ha-demo-c-1']);
  assert.equal(jobs.find((j) => j.metadata.name === 'ha-demo-c-1').metadata.annotations['fslm.dev/created-by'], follower.identity);
  assert.equal(done.status.progress, '3/3');
  const l = await lease();
  assert.equal(l.spec.holderIdentity, follower.identity);
  assert.equal(l.spec.leaseTransitions, transitions + 1);
});

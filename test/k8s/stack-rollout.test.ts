// A training run's rollout on the real control plane, and stages that cannot start: a run with a
// rollout sets one Stack stage's model, only that stage's Deployment rolls (on a spare GPU node: a new
// pod is ready before the old one goes), and the Stack reports the new model once its pods are ready;
// a serving stage that cannot be scheduled and a training stage whose Job cannot create its pod say
// why in their status within seconds, and fail (Degraded; Failed) after their start timeout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import type { ControllerProcess } from '../controller/support/controller-process.ts';
import { SKIP_K8S, TestEnv, getRun, waitForPhase } from '../controller/support/testenv.ts';
import { waitFor } from '../support/wait.ts';
import { applyOverlay, dropNamespace, namespaceWithStore, startController, waitForStack, type Json } from './support/serving.ts';

let env: TestEnv;
let controller: ControllerProcess;

const stageOf = (s: Json, name: string): Json => s.status?.stages?.find((x: Json) => x.name === name);
const condition = (o: Json, type: string): Json => o.status?.conditions?.find((c: Json) => c.type === type);

describe('rollouts and stages that cannot start', { timeout: 900_000, skip: SKIP_K8S }, () => {
  before(async () => {
    // Five GPU nodes: two stages serve, and a rolling stage needs one free node for its new pod.
    env = await TestEnv.start('rollout', { gpuNodes: 5 });
    await applyOverlay(env, 'k8s/overlays/gpu');
    controller = await startController(env, 'ctl-rollout');
  });
  after(async () => {
    await controller?.kill();
    await env?.stop();
  });

  test('a run\'s rollout changes only its stage: that Deployment rolls and the Stack reports the new model once ready', async () => {
    const ns = 'rollout';
    await namespaceWithStore(env, ns);
    try {
      await env.kubectl(['apply', '-n', ns, '-f', 'k8s/examples/trainer-rbac.yaml']);
      await env.kubectl(['apply', '-n', ns, '-f', '-'], { input: `apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: {name: pair}
spec:
  store: {persistentVolumeClaim: fslm-models}
  defaults: {model: file:///models/base/smollm2-135m-onnx}
  stages:
  - {name: draft, template: '{input}'}
  - {name: final, template: 'Improve: {stages.draft}'}
` });
      const before = await waitForStack(env, ns, 'pair', '2/2 Ready', (s) => s.status?.readyStages === '2/2');
      assert.equal(stageOf(before, 'final').model, 'file:///models/base/smollm2-135m-onnx');
      const draftBefore = await env.json(['get', 'deployment', 'pair-draft', '-n', ns]);
      const finalBefore = await env.json(['get', 'deployment', 'pair-final', '-n', ns]);

      // The run's Jobs train on the CPU node here; on a GPU cluster they take GPUs of their own.
      await env.kubectl(['apply', '-n', ns, '-f', '-'], { input: `apiVersion: fslm.dev/v1alpha1
kind: StackTrainingRun
metadata: {name: tune}
spec:
  template:
    image: ghcr.io/fslm/trainer:0.1.0
    serviceAccountName: fslm-trainer
    resources: {requests: {cpu: 100m}}
    securityContext: {runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001}
    volumes: [{name: models, persistentVolumeClaim: {claimName: fslm-models}}]
    volumeMounts: [{name: models, mountPath: /models}]
  stages:
  - {name: final, baseModel: smollm2-135m, dataset: file:///models/data/final.jsonl}
  rollout: {stage: final, target: {stack: pair}}
` });
      const run = await waitForPhase(env, 'tune', ['Succeeded', 'Failed'], 90_000, ns);
      assert.equal(run.status.phase, 'Succeeded', JSON.stringify(run.status));
      assert.equal(run.status.rollout.phase, 'Succeeded', JSON.stringify(run.status.rollout));
      const job = (await env.json(['get', 'jobs', '-n', ns, '-l', 'fslm.dev/run=tune'])).items[0];
      assert.deepEqual(job.spec.template.spec.volumes, [{ name: 'models', persistentVolumeClaim: { claimName: 'fslm-models' } }]);
      assert.equal(job.spec.template.spec.securityContext.runAsNonRoot, true);

      const newModel = `file:///models/tune/final`;
      const after = await waitForStack(env, ns, 'pair', 'the final stage to serve the new model', (s) =>
        stageOf(s, 'final')?.model === newModel && s.status.readyStages === '2/2');
      assert.deepEqual(after.spec.stages.map((s: Json) => s.model), [undefined, newModel], 'only the final stage names a new model');
      assert.equal(stageOf(after, 'draft').model, 'file:///models/base/smollm2-135m-onnx');
      const finalAfter = await env.json(['get', 'deployment', 'pair-final', '-n', ns]);
      assert.equal(finalAfter.spec.template.metadata.annotations['fslm.dev/model'], newModel);
      assert.deepEqual(finalAfter.spec.template.spec.initContainers[0].args, ['model', 'fetch', newModel, '/var/lib/fslm/model']);
      assert.ok(finalAfter.metadata.generation > finalBefore.metadata.generation);
      const draftAfter = await env.json(['get', 'deployment', 'pair-draft', '-n', ns]);
      assert.equal(draftAfter.metadata.generation, draftBefore.metadata.generation, 'the draft stage did not roll');
      const pods = (await env.json(['get', 'pods', '-n', ns, '-l', 'fslm.dev/stack=pair,fslm.dev/stage=final'])).items.filter((p: Json) => !p.metadata.deletionTimestamp);
      assert.deepEqual(pods.map((p: Json) => p.metadata.annotations['fslm.dev/model']), [newModel]);
    } finally {
      await dropNamespace(env, ns);
    }
  });

  test('a stage that cannot be scheduled says why at once, and is Degraded after its start timeout', async () => {
    const ns = 'nowhere';
    await env.kubectl(['create', 'namespace', ns]);
    try {
      await env.kubectl(['apply', '-n', ns, '-f', '-'], { input: `apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: {name: lost}
spec:
  defaults: {model: s3://models/base, nodeSelector: {pool: does-not-exist}, startTimeoutSeconds: 10}
  stages:
  - {name: only, template: '{input}'}
` });
      const waiting = await waitForStack(env, ns, 'lost', 'the stage to say why', (s) => stageOf(s, 'only')?.reason === 'Unschedulable', 30_000);
      assert.match(stageOf(waiting, 'only').message, /didn't match Pod's node affinity\/selector/);
      assert.equal(condition(waiting, 'Ready').status, 'False');
      const stuck = await waitForStack(env, ns, 'lost', 'Degraded after the start timeout', (s) => condition(s, 'Degraded')?.status === 'True', 60_000);
      assert.equal(condition(stuck, 'Degraded').reason, 'Unschedulable');
      assert.match(stageOf(stuck, 'only').message, /not ready within its start timeout/);
      assert.equal(stuck.status.readyStages, '0/1');
    } finally {
      await env.kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFail: true });
    }
  });

  test('the example run in a namespace without the trainer\'s service account: FailedCreate at once, Failed after the start timeout', async () => {
    const ns = 'no-trainer';
    await env.kubectl(['create', 'namespace', ns]);
    try {
      const example = parse(readFileSync('k8s/examples/stacktrainingrun.yaml', 'utf8'));
      example.spec.startTimeoutSeconds = 15;
      await env.kubectl(['apply', '-n', ns, '-f', '-'], { input: stringify(example) });
      const seen = await waitFor(async () => {
        const r = await getRun(env, 'pythia-4x160m', ns);
        const s = r.status?.stages?.find((x: Json) => x.name === 'understand');
        return s?.reason === 'FailedCreate' ? r : undefined;
      }, { what: 'the stage to say why it cannot start', timeoutMs: 30_000, intervalMs: 200 });
      const understand = seen.status.stages.find((x: Json) => x.name === 'understand');
      assert.equal(understand.phase, 'Running');
      assert.match(understand.message, /serviceaccount "fslm-trainer" not found/);
      const failed = await waitForPhase(env, 'pythia-4x160m', ['Failed', 'Succeeded'], 60_000, ns);
      assert.equal(failed.status.phase, 'Failed');
      assert.equal(failed.status.reason, 'StageFailed');
      assert.match(failed.status.message, /stage understand failed \(FailedCreate\): attempt 1 did not start within 15s: .*serviceaccount "fslm-trainer" not found/);
      const stage = failed.status.stages.find((x: Json) => x.name === 'understand');
      assert.deepEqual([stage.phase, stage.reason], ['Failed', 'FailedCreate']);
      const job = await env.json(['get', 'job', stage.job, '-n', ns]);
      assert.equal(job.spec.suspend, true, 'the Job stops trying');
      assert.equal(condition(failed, 'Failed').status, 'True');
    } finally {
      await env.kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFail: true });
    }
  });
});

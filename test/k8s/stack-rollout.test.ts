// A training run's rollout on the real control plane, and stages that cannot start: a run with a
// rollout sets one Stack stage's model, only that stage's Deployment rolls (on a spare GPU node: a new
// pod is ready before the old one goes), and the Stack reports the new model (URI and version) once its
// pods are ready; the rendered pod template, run as local processes, fetches and serves that version;
// a serving stage that cannot be scheduled and a training stage whose Job cannot create its pod say
// why in their status within seconds, and fail (Degraded; Failed) after their start timeout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { spawnChild } from '../../services/cli/up-processes.ts';
import { createHosts, type HostNetwork } from '../support/hosts.ts';
import { testModels } from '../support/models.ts';
import type { ControllerProcess } from '../controller/support/controller-process.ts';
import { SKIP_K8S, TestEnv, getRun, waitForPhase } from '../controller/support/testenv.ts';
import { waitFor } from '../support/wait.ts';
import { runLocalPod, stageServing } from './support/pod-process.ts';
import { applyOverlay, dropNamespace, namespaceWithStore, startController, waitForStack, type Json } from './support/serving.ts';

let env: TestEnv;
let controller: ControllerProcess;
let network: HostNetwork | undefined;

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
    await network?.stop();
  });

  test('a run\'s rollout changes only its stage: that Deployment rolls, the Stack reports the new model and version once ready, and the rendered pod serves that version', async () => {
    const ns = 'rollout';
    await namespaceWithStore(env, ns);
    // The claim's volume on this machine: its PV's hostPath (what a local pod mounts for the claim).
    const claim = await env.json(['get', 'pvc', 'fslm-models', '-n', ns]);
    const storeDir: string = (await env.json(['get', 'pv', claim.spec.volumeName])).spec.hostPath.path;
    try {
      // KWOK fakes the run's trainer Job, so the test writes what the trainer would have: a complete
      // artifact at the run's output (the tiny model, its manifest naming the run), file:///models/tune/final.
      const output = path.join(storeDir, 'tune/final');
      mkdirSync(path.dirname(output), { recursive: true });
      for (const dir of [storeDir, path.dirname(output)]) chmodSync(dir, 0o755);
      cpSync(testModels('tiny')['tiny-onnx'], output, { recursive: true });
      const manifest = { ...JSON.parse(readFileSync(path.join(output, 'fslm.json'), 'utf8')), training_run: `${ns}/tune` };
      writeFileSync(path.join(output, 'fslm.json'), JSON.stringify(manifest, null, 2));
      const newVersion = createHash('sha256').update(readFileSync(path.join(output, 'fslm.json'))).digest('hex');

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
      assert.deepEqual(finalAfter.spec.template.spec.initContainers[0].args, ['model', 'fetch', newModel, '/var/lib/fslm/model', '--termination-message', '/dev/termination-log']);
      assert.ok(finalAfter.metadata.generation > finalBefore.metadata.generation);
      const draftAfter = await env.json(['get', 'deployment', 'pair-draft', '-n', ns]);
      assert.equal(draftAfter.metadata.generation, draftBefore.metadata.generation, 'the draft stage did not roll');
      const pods = (await env.json(['get', 'pods', '-n', ns, '-l', 'fslm.dev/stack=pair,fslm.dev/stage=final'])).items.filter((p: Json) => !p.metadata.deletionTimestamp);
      assert.deepEqual(pods.map((p: Json) => p.metadata.annotations['fslm.dev/model']), [newModel]);

      // The rendered pod template, run here as local processes (no container runtime on this machine:
      // support/pod-process.ts maps it): its own network (a host) with the cluster's NATS Service name
      // resolving to a real nats-server on another host, the claim bound to its PV's hostPath.
      network = await createHosts(['pod', 'nats']);
      const natsHost = network.host('nats');
      const [inHost, ...inHostArgs] = natsHost.prefix();
      const nats = spawnChild({ name: 'nats-server', command: inHost, args: [...inHostArgs, 'nats-server', '-a', natsHost.ip, '-p', '4222'],
        readyWhen: (line) => (/Server is ready/.test(line) ? { event: 'ready' } : null), timeoutMs: 15_000 });
      await nats.ready;
      const podName: string = pods[0].metadata.name;
      const local = { namespace: ns, host: network.host('pod'), claims: { 'fslm-models': storeDir }, hostAliases: { 'nats.fslm-system.svc': natsHost.ip } };
      const template = finalAfter.spec.template;
      const pod = await runLocalPod(template, { ...local, name: podName });
      try {
        assert.deepEqual(pod.init.map((c) => [c.name, c.exitCode]), [['fetch-model', 0]], pod.init.map((c) => c.log).join('\n'));
        assert.deepEqual(JSON.parse(pod.init[0].message), { version: newVersion, uri: newModel }, 'the fetch step verified every sha256 and reports the version');
        const served = await stageServing(`${network.host('pod').ip}:50051`, 120_000).catch((error) => {
          throw new Error(`${error.message}\n${pod.containers[0]?.log()}`);
        });
        assert.equal(served.health, 'SERVING');
        assert.equal(served.version, newVersion, 'Describe reports the new artifact\'s version');
      } finally {
        await pod.stop();
      }

      // KWOK fakes the kubelet, which reports no termination message: the test reports, in the pod's
      // status, the message the real fetch step wrote above, as the kubelet would have.
      const fetchStatus = { name: 'fetch-model', image: template.spec.initContainers[0].image, imageID: '', ready: true, restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed', message: pod.init[0].message, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString() } } };
      await env.kubectl(['patch', 'pod', podName, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { initContainerStatuses: [fetchStatus] } })]);
      const versioned = await waitForStack(env, ns, 'pair', 'the final stage to report the new version', (s) => stageOf(s, 'final')?.modelVersion === newVersion);
      assert.equal(stageOf(versioned, 'final').model, newModel);
      assert.equal(stageOf(versioned, 'draft').modelVersion, undefined, 'no version where no pod reported one');

      // A tampered file in the store: the fetch step fails naming it, and the stage container is not started.
      const onnx = path.join(output, 'onnx/model.onnx');
      const bytes = readFileSync(onnx);
      bytes[bytes.length - 1] ^= 0xff;
      writeFileSync(onnx, bytes);
      const tampered = await runLocalPod(template, { ...local, name: `${podName}-tampered` });
      await tampered.stop();
      assert.deepEqual(tampered.init.map((c) => [c.name, c.exitCode]), [['fetch-model', 1]]);
      assert.match(tampered.init[0].message, /onnx\/model\.onnx: sha256 [0-9a-f]{64} does not match fslm\.json/);
      assert.equal(tampered.containers.length, 0, 'the stage container is not started');
      await nats.stop();
    } finally {
      await dropNamespace(env, ns);
      rmSync(storeDir, { recursive: true, force: true });
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

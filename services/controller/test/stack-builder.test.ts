// What a Stack runs (stack-builder.ts), built from stacks/default.yaml as the API server stores it:
// per stage a Deployment of `fslm stage` and a PodDisruptionBudget, the router's four objects, on a
// GPU and on a CPU cluster profile.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { V1Deployment, V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { Stack } from '../src/stack-types.ts';
import { desiredObjects, stageDeployment } from '../src/stack-builder.ts';
import { childName, modelUri, type ServingProfile } from '../src/stack-serving.ts';

const GPU: ServingProfile = { image: 'ghcr.io/fslm/fslm:0.1.0', natsUrl: 'nats://nats.fslm-system.svc:4222', stageGpus: 1 };
const CPU: ServingProfile = { ...GPU, stageGpus: 0 };

function defaultStack(): Stack {
  const doc = parse(readFileSync(new URL('../../../stacks/default.yaml', import.meta.url), 'utf8'));
  return { ...doc, metadata: { ...doc.metadata, namespace: 'serving', uid: 'uid-default', generation: 1 } };
}

const byKind = (stack: Stack, profile: ServingProfile) => {
  const objs = desiredObjects(stack, profile);
  return {
    deployments: objs.filter((o) => o.kind === 'Deployment') as V1Deployment[],
    pdbs: objs.filter((o) => o.kind === 'PodDisruptionBudget') as V1PodDisruptionBudget[],
    kinds: objs.map((o) => `${o.kind}/${o.metadata!.name}`),
  };
};

describe('stack builder', { timeout: 30_000 }, () => {
  test('the default stack: a Deployment and a PDB per stage, the router\'s account, binding, Deployment and Service, two NetworkPolicies, all owned by the Stack', () => {
    const stack = defaultStack();
    const objs = desiredObjects(stack, GPU);
    assert.deepEqual(byKind(stack, GPU).kinds, [
      'Deployment/default-understand', 'PodDisruptionBudget/default-understand', 'Deployment/default-keywords', 'PodDisruptionBudget/default-keywords',
      'Deployment/default-intermediate', 'PodDisruptionBudget/default-intermediate', 'Deployment/default-final', 'PodDisruptionBudget/default-final',
      'ServiceAccount/default-router', 'RoleBinding/default-router', 'Deployment/default-router', 'Service/default-router',
      'NetworkPolicy/default-stages', 'NetworkPolicy/default-router',
    ]);
    for (const o of objs) {
      assert.deepEqual(o.metadata!.ownerReferences, [{ apiVersion: 'fslm.dev/v1alpha1', kind: 'Stack', name: 'default', uid: 'uid-default', controller: true, blockOwnerDeletion: true }]);
      assert.equal(o.metadata!.namespace, 'serving');
      assert.match(o.metadata!.annotations!['fslm.dev/applied-hash'], /^[0-9a-f]{16}$/);
    }
  });

  test('a stage pod on a GPU cluster: one GPU, the GPU taint tolerated, a node of its own, the model fetched and checked first, gRPC health probes', () => {
    const d = byKind(defaultStack(), GPU).deployments.find((x) => x.metadata!.name === 'default-final')!;
    assert.equal(d.spec!.replicas, 1);
    assert.deepEqual(d.spec!.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    assert.deepEqual(d.spec!.selector.matchLabels, { 'fslm.dev/stack': 'default', 'fslm.dev/stage': 'final' });
    const pod = d.spec!.template.spec!;
    const [fetch] = pod.initContainers!;
    assert.deepEqual(fetch.args, ['model', 'fetch', 'file:///models/default-final-onnx', '/var/lib/fslm/model', '--termination-message', '/dev/termination-log']);
    // The version it fetched reaches the pod status through its termination message; a failed fetch reports its log.
    assert.deepEqual([fetch.terminationMessagePath, fetch.terminationMessagePolicy], ['/dev/termination-log', 'FallbackToLogsOnError']);
    assert.deepEqual(fetch.volumeMounts!.find((m) => m.name === 'store'), { name: 'store', mountPath: '/models', readOnly: true });
    assert.deepEqual(pod.volumes!.find((v) => v.name === 'store'), { name: 'store', persistentVolumeClaim: { claimName: 'fslm-models', readOnly: true } });
    const [c] = pod.containers;
    assert.deepEqual(c.args!.slice(0, 4), ['stage', '--model', '/var/lib/fslm/model', '--precision']);
    assert.ok(c.args!.join(' ').includes('--nats nats://nats.fslm-system.svc:4222 --stack default --stage final --replica $(POD_NAME)'));
    assert.deepEqual(c.resources!.limits, { 'nvidia.com/gpu': '1' });
    for (const probe of [c.startupProbe, c.readinessProbe]) assert.deepEqual(probe!.grpc, { port: 50051, service: 'fslm.v1.StageService' });
    assert.deepEqual(c.livenessProbe!.grpc, { port: 50051, service: 'liveness' }, 'liveness: the process answers (a NATS outage makes it unready, not restarted)');
    assert.deepEqual(pod.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.deepEqual(pod.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution,
      [{ labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'stage' } }, topologyKey: 'kubernetes.io/hostname' }]);
    assert.equal(pod.securityContext!.runAsNonRoot, true);
    assert.equal(d.spec!.template.metadata!.annotations!['fslm.dev/model'], 'file:///models/default-final-onnx');
    assert.equal(d.spec!.template.metadata!.labels!['app.kubernetes.io/component'], 'stage');
    assert.deepEqual(byKind(defaultStack(), GPU).pdbs[0].spec, { maxUnavailable: 0, selector: { matchLabels: { 'fslm.dev/stack': 'default', 'fslm.dev/stage': 'understand' } } });
  });

  test('on a CPU cluster the same stack asks for no GPU and may share nodes', () => {
    const pod = byKind(defaultStack(), CPU).deployments[0].spec!.template.spec!;
    assert.equal(pod.containers[0].resources!.limits, undefined);
    assert.equal(pod.tolerations, undefined);
    assert.equal(pod.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution, undefined);
    assert.equal(pod.affinity!.podAntiAffinity!.preferredDuringSchedulingIgnoredDuringExecution!.length, 1);
  });

  test('a stage\'s own settings win over spec.defaults, which win over the cluster profile', () => {
    const stack = defaultStack();
    stack.spec.defaults = { replicas: 3, precision: 'int8', nodeSelector: { pool: 'a100' }, model: 's3://models/base' };
    stack.spec.stages = stack.spec.stages.map(({ model: _model, ...s }) => s);
    stack.spec.stages[3] = { ...stack.spec.stages[3], replicas: 2, model: 's3://models/runs/r7/final', resources: { limits: { 'nvidia.com/gpu': 2 } }, placement: { oneStagePerNode: false } };
    const [first, , , final] = byKind(stack, GPU).deployments;
    assert.deepEqual([first.spec!.replicas, final.spec!.replicas], [3, 2]);
    assert.deepEqual(first.spec!.template.spec!.initContainers![0].args![2], 's3://models/base');
    assert.deepEqual(final.spec!.template.spec!.initContainers![0].args![2], 's3://models/runs/r7/final');
    assert.deepEqual(final.spec!.template.spec!.containers[0].resources!.limits, { 'nvidia.com/gpu': '2' });
    assert.equal(final.spec!.template.spec!.containers[0].args![4], 'int8');
    assert.deepEqual(final.spec!.template.spec!.nodeSelector, { pool: 'a100' });
    assert.equal(final.spec!.template.spec!.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution, undefined);
    assert.deepEqual(byKind(stack, GPU).pdbs[3].spec!.maxUnavailable, 1);
  });

  test('changing one stage\'s model changes only that Deployment\'s hash', () => {
    const before = desiredObjects(defaultStack(), GPU);
    const stack = defaultStack();
    stack.spec.stages[3].model = 'file:///models/runs/r1/final';
    const after = desiredObjects(stack, GPU);
    const changed = after.filter((o, i) => o.metadata!.annotations!['fslm.dev/applied-hash'] !== before[i].metadata!.annotations!['fslm.dev/applied-hash']);
    assert.deepEqual(changed.map((o) => `${o.kind}/${o.metadata!.name}`), ['Deployment/default-final']);
    assert.equal(stageDeployment(stack, stack.spec.stages[3], GPU).spec!.template.metadata!.annotations!['fslm.dev/model'], 'file:///models/runs/r1/final');
  });

  test('child names are DNS labels; model names become file URIs on the store', () => {
    assert.equal(childName('default', 'final'), 'default-final');
    assert.equal(childName('7b', 'router'), 'fslm-7b-router');
    const long = childName('a'.repeat(40), 'b'.repeat(40));
    assert.ok(long.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(long), long);
    const stack = defaultStack();
    assert.equal(modelUri(stack, 's3://bucket/p'), 's3://bucket/p');
    stack.spec.store = { mountPath: '/mnt/store/' };
    assert.equal(modelUri(stack, 'tiny'), 'file:///mnt/store/tiny');
  });
});

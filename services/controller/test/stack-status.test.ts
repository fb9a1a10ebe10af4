// A Stack's status (stack-status.ts) from its Deployments and pods: ready stages n/m, the model each
// stage's ready pods serve, and why a stage is not ready, in the stage and in the conditions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Stack } from '../src/stack-types.ts';
import { fetchedVersion, stackStatus } from '../src/stack-status.ts';
import type { ServingProfile } from '../src/stack-serving.ts';
import { at } from './support/builders.ts';

const profile: ServingProfile = { image: 'i', natsUrl: 'nats://n:4222', stageGpus: 1 };
const stack: Stack = {
  apiVersion: 'fslm.dev/v1alpha1', kind: 'Stack',
  metadata: { name: 's', namespace: 'ns', uid: 'u', generation: 3 },
  spec: { defaults: { model: 'file:///m/a' }, stages: [{ name: 'one', template: '{input}' }, { name: 'two', template: '{stages.one}' }] },
};

function deployment(name: string, s: { ready?: number; updated?: number; replicas?: number; conditions?: V1Deployment['status'] extends infer T ? T extends { conditions?: infer C } ? C : never : never }): V1Deployment {
  return { metadata: { name, generation: 2 }, status: { observedGeneration: 2, replicas: s.replicas ?? 1, readyReplicas: s.ready ?? 1, updatedReplicas: s.updated ?? 1, conditions: s.conditions } };
}

function pod(stage: string, model: string, ready: boolean, status: V1Pod['status'] = {}): V1Pod {
  return {
    metadata: { name: `s-${stage}-${model.length}${ready ? 'r' : 'n'}`, labels: { 'fslm.dev/stage': stage, 'app.kubernetes.io/component': 'stage' }, annotations: { 'fslm.dev/model': model } },
    status: { phase: 'Running', ...status, conditions: [...(status.conditions ?? []), { type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

/** A pod whose fetch step completed with `message` as its termination message (what the kubelet reports). */
function fetched(p: V1Pod, message: string, exitCode = 0): V1Pod {
  const terminated = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', message };
  return { ...p, status: { ...p.status, initContainerStatuses: [{ name: 'fetch-model', image: 'i', imageID: '', ready: true, restartCount: 0, state: { terminated } }] } };
}
const V1 = 'a'.repeat(64);
const V2 = 'b'.repeat(64);
const message = (version: string, uri = 'file:///m/a') => JSON.stringify({ version, uri });

const routerPod: V1Pod = { metadata: { name: 'r', labels: { 'app.kubernetes.io/component': 'router' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
const all = (extra: Record<string, V1Deployment> = {}) => new Map(Object.entries({
  's-one': deployment('s-one', {}), 's-two': deployment('s-two', {}), 's-router': deployment('s-router', {}), ...extra,
}));
const observe = (deployments: Map<string, V1Deployment>, pods: V1Pod[], s: Stack = stack) => stackStatus({ stack: s, deployments, pods, profile, now: at(100) });
const cond = (st: ReturnType<typeof stackStatus>, type: string) => st.conditions!.find((c) => c.type === type)!;

describe('stack status', { timeout: 30_000 }, () => {
  test('nothing created yet: 0/2, not Ready, Progressing', () => {
    const st = observe(new Map(), []);
    assert.equal(st.readyStages, '0/2');
    assert.equal(st.observedGeneration, 3);
    assert.deepEqual(st.stages!.map((s) => [s.name, s.reason, s.readyReplicas, s.replicas]), [['one', 'Creating', 0, 1], ['two', 'Creating', 0, 1]]);
    assert.deepEqual([cond(st, 'Ready').status, cond(st, 'Progressing').status, cond(st, 'Degraded').status], ['False', 'True', 'False']);
  });

  test('every stage rolled out and ready: 2/2 Ready, each stage with the model its pods serve', () => {
    const st = observe(all(), [pod('one', 'file:///m/a', true), pod('two', 'file:///m/a', true), routerPod]);
    assert.equal(st.readyStages, '2/2');
    assert.deepEqual(st.stages!.map((s) => [s.reason, s.model]), [['Ready', 'file:///m/a'], ['Ready', 'file:///m/a']]);
    assert.deepEqual([cond(st, 'Ready').status, cond(st, 'Ready').reason, cond(st, 'Progressing').reason, cond(st, 'Degraded').status], ['True', 'AllStagesReady', 'Complete', 'False']);
    assert.deepEqual(st.router, { deployment: 's-router', service: 's-router', replicas: 1, readyReplicas: 1 });
  });

  test('while a stage rolls, it is not ready and reports no single model until every ready pod serves the new one', () => {
    const rolling = all({ 's-two': deployment('s-two', { replicas: 2, ready: 2, updated: 1 }) });
    const mixed = observe(rolling, [pod('one', 'file:///m/a', true), pod('two', 'file:///m/a', true), pod('two', 'file:///m/new', true), routerPod]);
    assert.equal(mixed.readyStages, '1/2');
    assert.deepEqual([mixed.stages![1].reason, mixed.stages![1].model], ['RollingOut', undefined]);
    const old = observe(rolling, [pod('two', 'file:///m/a', true), pod('two', 'file:///m/new', false)]);
    assert.equal(old.stages![1].model, 'file:///m/a', 'the ready pods still serve the old model');
  });

  test('each stage reports the model version its ready pods fetched; none while they differ or one has not reported it', () => {
    const ready = observe(all(), [fetched(pod('one', 'file:///m/a', true), message(V1)), fetched(pod('two', 'file:///m/a', true), message(V2)), routerPod]);
    assert.deepEqual(ready.stages!.map((s) => [s.model, s.modelVersion]), [['file:///m/a', V1], ['file:///m/a', V2]]);
    const rolling = all({ 's-two': deployment('s-two', { replicas: 2, ready: 2, updated: 1 }) });
    const mixed = observe(rolling, [fetched(pod('two', 'file:///m/a', true), message(V1)), fetched(pod('two', 'file:///m/new', true), message(V2, 'file:///m/new'))]);
    assert.equal(mixed.stages![1].modelVersion, undefined, 'two versions serve');
    const oldOnly = observe(rolling, [fetched(pod('two', 'file:///m/a', true), message(V1)), fetched(pod('two', 'file:///m/new', false), message(V2, 'file:///m/new'))]);
    assert.equal(oldOnly.stages![1].modelVersion, V1, 'only ready pods count');
    const unreported = observe(rolling, [fetched(pod('two', 'file:///m/a', true), message(V1)), pod('two', 'file:///m/a', true)]);
    assert.equal(unreported.stages![1].modelVersion, undefined, 'a ready pod without a reported version');
  });

  test('a fetch step\'s termination message counts only as JSON with a sha256 version, from a fetch that succeeded', () => {
    const base = pod('one', 'file:///m/a', true);
    assert.equal(fetchedVersion(fetched(base, message(V1))), V1);
    assert.equal(fetchedVersion(fetched(base, message(V1), 1)), undefined, 'a failed fetch');
    for (const text of ['', 'fslm model fetch: refusing the artifact', '{"version": 7}', JSON.stringify({ version: 'A'.repeat(64) }), '[1]', 'null']) {
      assert.equal(fetchedVersion(fetched(base, text)), undefined, JSON.stringify(text));
    }
    assert.equal(fetchedVersion(base), undefined, 'no init container status yet');
  });

  test('a stage whose pods cannot be created, scheduled or pulled says why; hard failures and a passed start timeout are Degraded', () => {
    const failed = observe(all({ 's-one': deployment('s-one', { ready: 0, replicas: 0, updated: 0, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "s-one-x" is forbidden: exceeded quota' }] }) }), [routerPod]);
    assert.deepEqual([failed.stages![0].reason, failed.stages![0].message], ['FailedCreate', 'pods "s-one-x" is forbidden: exceeded quota']);
    assert.deepEqual([cond(failed, 'Degraded').status, cond(failed, 'Degraded').reason, cond(failed, 'Ready').status], ['True', 'FailedCreate', 'False']);
    assert.match(cond(failed, 'Degraded').message, /^stage one: FailedCreate: pods "s-one-x" is forbidden/);

    const pending = pod('two', 'file:///m/a', false, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/5 nodes are available: 5 Insufficient nvidia.com/gpu.' }] });
    const waiting = observe(all({ 's-two': deployment('s-two', { ready: 0 }) }), [pod('one', 'file:///m/a', true), pending, routerPod]);
    assert.deepEqual([waiting.stages![1].reason, cond(waiting, 'Degraded').status, cond(waiting, 'Progressing').status], ['Unschedulable', 'False', 'True']);
    assert.match(waiting.stages![1].message!, /Insufficient nvidia\.com\/gpu/);

    const stuck = observe(all({ 's-two': deployment('s-two', { ready: 0, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "s-two-1" has timed out progressing.' }] }) }),
      [pod('one', 'file:///m/a', true), pending, routerPod]);
    assert.deepEqual([stuck.stages![1].reason, cond(stuck, 'Degraded').status, cond(stuck, 'Progressing').reason], ['Unschedulable', 'True', 'Stalled']);
    assert.match(stuck.stages![1].message!, /not ready within its start timeout/);

    const pulling = pod('two', 'file:///m/a', false, { phase: 'Pending', initContainerStatuses: [{ name: 'fetch-model', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull', message: 'not found' } } }] });
    assert.equal(cond(observe(all({ 's-two': deployment('s-two', { ready: 0 }) }), [pulling, routerPod]), 'Degraded').reason, 'ErrImagePull');
  });

  test('a condition keeps its lastTransitionTime while its status holds', () => {
    const first = observe(new Map(), []);
    const again = stackStatus({ stack: { ...stack, status: first }, deployments: new Map(), pods: [], profile, now: at(200) });
    assert.equal(cond(again, 'Ready').lastTransitionTime, at(100).toISOString());
  });
});

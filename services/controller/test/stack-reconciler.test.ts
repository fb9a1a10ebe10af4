// The Stack reconciler against an in-memory cluster: children applied once (not again while nothing
// changes), a changed stage applied again alone, a removed stage's children deleted, status written
// only when it changes, and a refused object reported in the status.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject, V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { StackCluster } from '../src/stack-cluster-k8s.ts';
import type { Stack, StackStatus } from '../src/stack-types.ts';
import { StackReconciler } from '../src/stack-reconciler.ts';
import { at } from './support/builders.ts';

class StackClusterFake implements StackCluster {
  stack: Stack;
  objects = new Map<string, KubernetesObject>();
  applies: string[] = [];
  removed: string[] = [];
  statusWrites = 0;
  refuse = new Set<string>();

  constructor(stack: Stack) {
    this.stack = stack;
  }

  getStack(): Stack | undefined {
    return structuredClone(this.stack);
  }

  deploymentsOf(): V1Deployment[] {
    return [...this.objects.values()].filter((o) => o.kind === 'Deployment') as V1Deployment[];
  }

  podsOf(): V1Pod[] {
    return [];
  }

  cached(kind: string, _ns: string, name: string): KubernetesObject | undefined {
    return this.objects.get(`${kind}/${name}`);
  }

  async apply(obj: KubernetesObject): Promise<void> {
    const key = `${obj.kind}/${obj.metadata!.name}`;
    if (this.refuse.has(key)) throw new Error(`${key} is invalid: spec.replicas: Invalid value`);
    this.applies.push(key);
    this.objects.set(key, structuredClone(obj));
  }

  stageChildrenOf(): KubernetesObject[] {
    return [...this.objects.values()].filter((o) => (o.kind === 'Deployment' || o.kind === 'PodDisruptionBudget') && o.metadata!.labels!['fslm.dev/stage']);
  }

  networkPoliciesOf(): KubernetesObject[] {
    return [...this.objects.values()].filter((o) => o.kind === 'NetworkPolicy');
  }

  async remove(obj: KubernetesObject): Promise<void> {
    this.removed.push(`${obj.kind}/${obj.metadata!.name}`);
    this.objects.delete(`${obj.kind}/${obj.metadata!.name}`);
  }

  async updateStatus(_stack: Stack, status: StackStatus): Promise<void> {
    this.statusWrites++;
    this.stack = { ...this.stack, status: structuredClone(status) };
  }
}

const stack = (): Stack => ({
  apiVersion: 'fslm.dev/v1alpha1', kind: 'Stack', metadata: { name: 's', namespace: 'ns', uid: 'u', generation: 1 },
  spec: { defaults: { model: 'file:///m/base' }, stages: [{ name: 'one', template: '{input}' }, { name: 'two', template: '{stages.one}' }] },
});

function setup(s = stack()) {
  const cluster = new StackClusterFake(s);
  const r = new StackReconciler({ cluster, profile: { image: 'i', natsUrl: 'nats://n:4222', stageGpus: 1 }, now: () => at(10) });
  return { cluster, r };
}

describe('stack reconciler', { timeout: 30_000 }, () => {
  test('NetworkPolicies the Stack turns off are deleted, and made again when it turns them on', async () => {
    const { cluster, r } = setup();
    await r.reconcile('ns/s');
    cluster.stack = { ...cluster.stack, spec: { ...cluster.stack.spec, networkPolicy: { enabled: false } } };
    await r.reconcile('ns/s');
    assert.deepEqual(cluster.removed, ['NetworkPolicy/s-stages', 'NetworkPolicy/s-router']);
    cluster.applies = [];
    cluster.stack = { ...cluster.stack, spec: { ...cluster.stack.spec, networkPolicy: { enabled: true } } };
    await r.reconcile('ns/s');
    assert.deepEqual(cluster.applies, ['NetworkPolicy/s-stages', 'NetworkPolicy/s-router']);
  });

  test('children are applied once; with nothing new nothing is written again', async () => {
    const { cluster, r } = setup();
    await r.reconcile('ns/s');
    assert.deepEqual(cluster.applies, ['Deployment/s-one', 'PodDisruptionBudget/s-one', 'Deployment/s-two', 'PodDisruptionBudget/s-two',
      'ServiceAccount/s-router', 'RoleBinding/s-router', 'Deployment/s-router', 'Service/s-router', 'NetworkPolicy/s-stages', 'NetworkPolicy/s-router']);
    assert.equal(cluster.statusWrites, 1);
    assert.equal(cluster.stack.status!.readyStages, '0/2');
    await r.reconcile('ns/s');
    await r.reconcile('ns/s');
    assert.equal(cluster.applies.length, 10);
    assert.equal(cluster.statusWrites, 1);
  });

  test('a new model for one stage applies that stage\'s Deployment alone; a removed stage\'s children are deleted', async () => {
    const { cluster, r } = setup();
    await r.reconcile('ns/s');
    cluster.applies = [];
    cluster.stack.spec.stages[1].model = 'file:///m/new';
    await r.reconcile('ns/s');
    assert.deepEqual(cluster.applies, ['Deployment/s-two']);
    cluster.stack.spec.stages.pop();
    await r.reconcile('ns/s');
    assert.deepEqual(cluster.removed.sort(), ['Deployment/s-two', 'PodDisruptionBudget/s-two']);
    assert.equal(cluster.stack.status!.readyStages, '0/1');
  });

  test('an object the API server refuses makes the Stack Degraded with its message, and the reconcile is retried', async () => {
    const { cluster, r } = setup();
    cluster.refuse.add('Deployment/s-two');
    await assert.rejects(r.reconcile('ns/s'), /Deployment s-two: Deployment\/s-two is invalid/);
    const degraded = cluster.stack.status!.conditions!.find((c) => c.type === 'Degraded')!;
    assert.deepEqual([degraded.status, degraded.reason], ['True', 'ApplyFailed']);
    assert.match(degraded.message, /spec\.replicas: Invalid value/);
    assert.equal(cluster.stack.status!.conditions!.find((c) => c.type === 'Ready')!.status, 'False');
  });

  test('a Stack that is gone or being deleted is left alone', async () => {
    const s = stack();
    s.metadata.deletionTimestamp = at(5).toISOString();
    const { cluster, r } = setup(s);
    assert.deepEqual(await r.reconcile('ns/s'), {});
    assert.deepEqual(cluster.applies, []);
  });
});

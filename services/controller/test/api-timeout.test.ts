// Every call the controller makes to the API server (not a watch) has a timeout: against a real socket
// that accepts requests and never answers (a hung API server), each call of the Lease client and of
// the controller's cluster fails on its timeout, through @kubernetes/client-node, instead of waiting forever.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { kubeLeaseClient } from '../src/lease-client.ts';
import { K8sCluster } from '../src/cluster-k8s.ts';
import { K8sStackCluster } from '../src/stack-cluster-k8s.ts';
import { desiredObjects } from '../src/stack-builder.ts';
import type { Stack } from '../src/stack-types.ts';

/** A TCP server that accepts connections and reads requests but never answers: a hung API server. */
async function silentServer(): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    server, url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

function kubeConfigFor(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'hung', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'hung', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}

describe('API calls to a hung API server end at their timeout', { timeout: 60_000 }, () => {
  test('every Lease call rejects instead of waiting forever', async () => {
    const hung = await silentServer();
    try {
      const client = kubeLeaseClient(kubeConfigFor(hung.url), 'default', 'fslm-controller', 300);
      const never = new AbortController().signal;
      const lease: V1Lease = { metadata: { name: 'fslm-controller', namespace: 'default' }, spec: {} };
      for (const [name, call] of [['read', () => client.read(never)], ['create', () => client.create(lease, never)], ['replace', () => client.replace(lease, never)]] as const) {
        await assert.rejects(call(), /abort|timeout/i, `${name} must fail on its timeout`);
      }
    } finally {
      await hung.close();
    }
  });

  test('every write and read of the controller\'s cluster rejects instead of waiting forever', async () => {
    const hung = await silentServer();
    try {
      const cluster = new K8sCluster({ kubeConfig: kubeConfigFor(hung.url), namespace: 'default', enqueue: () => undefined, apiTimeoutMs: 300 });
      const run = { apiVersion: 'fslm.dev/v1alpha1', kind: 'StackTrainingRun', metadata: { name: 'r', namespace: 'default', uid: 'u1' }, spec: { stages: [] } } as unknown as Parameters<K8sCluster['updateRunStatus']>[0];
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['createJob', () => cluster.createJob({ metadata: { name: 'j', namespace: 'default' } })],
        ['setJobSuspended', () => cluster.setJobSuspended('default', 'j', true)],
        ['updateRunStatus', () => cluster.updateRunStatus(run, {} as Parameters<K8sCluster['updateRunStatus']>[1])],
        ['deleteRun', () => cluster.deleteRun(run)],
        ['stackStages', () => cluster.stackStages('default', 's')],
        ['setStackStageModel', () => cluster.setStackStageModel('default', 's', 0, 'a', 'file:///m')],
      ];
      for (const [name, call] of calls) await assert.rejects(call(), /abort|timeout/i, `${name} must fail on its timeout`);
    } finally {
      await hung.close();
    }
  });

  test('every write of the Stack reconciler (each kind it applies, and the status) rejects instead of waiting forever', async () => {
    const hung = await silentServer();
    try {
      const cluster = new K8sStackCluster({ kubeConfig: kubeConfigFor(hung.url), namespace: 'default', enqueue: () => undefined, apiTimeoutMs: 300 });
      const stack: Stack = { apiVersion: 'fslm.dev/v1alpha1', kind: 'Stack', metadata: { name: 's', namespace: 'default', uid: 'u' }, spec: { stages: [{ name: 'a', model: 'm', template: '{input}' }] } };
      const objects = desiredObjects(stack, { image: 'i', natsUrl: 'nats://n:4222', stageGpus: 1 });
      assert.deepEqual([...new Set(objects.map((o) => o.kind))], ['Deployment', 'PodDisruptionBudget', 'ServiceAccount', 'RoleBinding', 'Service', 'NetworkPolicy']);
      for (const o of objects) await assert.rejects(cluster.apply(o), /abort|timeout/i, `apply ${o.kind} must fail on its timeout`);
      await assert.rejects(cluster.updateStatus(stack, {}), /abort|timeout/i);
    } finally {
      await hung.close();
    }
  });
});

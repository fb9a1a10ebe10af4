// Serving a stack on the real control plane (kube-apiserver, controller manager, scheduler; KWOK GPU
// nodes stand in for the kubelets, so pods "run" without a container runtime), driven with kubectl
// as a user would: `kubectl apply -k k8s/overlays/gpu`, then stacks/default.yaml as a Stack. The
// controller runs under its own service account, whose permissions are checked to be what it uses
// and no more; the router's Kubernetes stack source follows a Stack's changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { K8sStackSource } from '../../services/router/src/stack-source-k8s.ts';
import type { StackDefinition } from '../../services/router/src/types.ts';
import { CLUSTER_RULES, NAMESPACE_RULES, ROUTER_RULES } from '../../services/controller/src/permissions.ts';
import type { ControllerProcess } from '../controller/support/controller-process.ts';
import { SKIP_K8S, TestEnv } from '../controller/support/testenv.ts';
import { waitFor } from '../support/wait.ts';
import { applyOverlay, dropNamespace, namespaceWithStore, startController, waitForStack, type Json } from './support/serving.ts';

let env: TestEnv;
let controller: ControllerProcess;
const CONTROLLER = 'system:serviceaccount:fslm-system:fslm-controller';

describe('stacks on the cluster', { timeout: 900_000, skip: SKIP_K8S }, () => {
  before(async () => {
    env = await TestEnv.start('serving', { gpuNodes: 4 });
    await applyOverlay(env, 'k8s/overlays/gpu');
    controller = await startController(env, 'ctl-serving');
  });
  after(async () => {
    await controller?.kill();
    await env?.stop();
  });

  test('the default stack: 4 stage Deployments on 4 GPU nodes, a router, 4/4 Ready; deleting the Stack removes it all', async () => {
    const ns = 'accept';
    await namespaceWithStore(env, ns);
    try {
      await env.kubectl(['apply', '-n', ns, '-f', 'stacks/default.yaml']);
      const ready = await waitForStack(env, ns, 'default', '4/4 Ready', (s) => s.status?.readyStages === '4/4'
        && s.status.conditions?.some((c: Json) => c.type === 'Ready' && c.status === 'True'));
      assert.equal(ready.status.observedGeneration, ready.metadata.generation);
      assert.deepEqual(ready.status.stages.map((s: Json) => [s.name, s.readyReplicas, s.replicas, s.model]),
        ['understand', 'keywords', 'intermediate', 'final'].map((n) => [n, 1, 1, `file:///models/default-${n}-onnx`]));
      const table = (await env.kubectl(['get', 'stacks', '-n', ns])).stdout;
      assert.match(table, /^NAME\s+READY\s+AGE\ndefault\s+4\/4\s+\d+s\n$/);
      assert.match((await env.kubectl(['get', 'stk', '-n', ns, '-o', 'wide'])).stdout, /AllStagesReady/);

      const deployments = (await env.json(['get', 'deployments', '-n', ns, '-l', 'fslm.dev/stack=default'])).items;
      assert.deepEqual(deployments.map((d: Json) => d.metadata.name).sort(),
        ['default-final', 'default-intermediate', 'default-keywords', 'default-router', 'default-understand']);
      const pods = (await env.json(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/component=stage'])).items;
      assert.equal(pods.length, 4);
      for (const p of pods) {
        assert.equal(p.spec.containers[0].resources.limits['nvidia.com/gpu'], '1');
        assert.match(p.spec.nodeName, /^kwok-gpu-\d$/);
        assert.equal(p.status.conditions.find((c: Json) => c.type === 'Ready').status, 'True');
      }
      assert.equal(new Set(pods.map((p: Json) => p.spec.nodeName)).size, 4, 'each stage pod on a GPU node of its own');
      const service = await env.json(['get', 'service', 'default-router', '-n', ns]);
      assert.deepEqual(service.spec.ports.map((p: Json) => [p.name, p.port]), [['grpc', 50050], ['http', 8080]]);
      assert.equal((await env.json(['get', 'pdb', 'default-final', '-n', ns])).spec.maxUnavailable, 0);

      // A stage taken out of the Stack takes its Deployment and PodDisruptionBudget with it.
      await env.kubectl(['patch', 'stack', 'default', '-n', ns, '--type=json', '-p', '[{"op":"test","path":"/spec/stages/3/name","value":"final"},{"op":"remove","path":"/spec/stages/3"}]']);
      await waitForStack(env, ns, 'default', '3/3 after removing a stage', (s) => s.status?.readyStages === '3/3' && s.status.observedGeneration === 2);
      await waitFor(async () =>
        (await env.kubectl(['get', 'deployment,pdb', '-n', ns, '-l', 'fslm.dev/stage=final', '-o', 'name'])).stdout.trim() === '' || undefined, { what: 'the removed stage\'s Deployment and PDB to go', timeoutMs: 60_000, intervalMs: 200 });

      await env.kubectl(['delete', 'stack', 'default', '-n', ns]);
      await waitFor(async () => {
        const left = await env.kubectl(['get', 'deployments,services,pdb,networkpolicies,serviceaccounts,rolebindings,pods', '-n', ns, '-l', 'fslm.dev/stack=default', '-o', 'name']);
        return left.stdout.trim() === '' ? true : undefined;
      }, { what: 'everything the Stack made to be gone', timeoutMs: 90_000, intervalMs: 200 });
    } finally {
      await dropNamespace(env, ns);
    }
  });

  test('the controller\'s service account may do what the controller does, and no more', async () => {
    // `stacks.fslm.dev/status` as kubectl writes a resource of a group, with its subresource.
    const name = (group: string, resource: string): string => {
      const [res, sub] = resource.split('/');
      return `${group ? `${res}.${group}` : res}${sub ? `/${sub}` : ''}`;
    };
    const canI = async (verb: string, resource: string, ns?: string): Promise<string> => {
      const [res, sub] = resource.split('/');
      return (await env.kubectl(['auth', 'can-i', verb, res, ...(sub ? ['--subresource', sub] : []), '--as', CONTROLLER,
        ...(ns ? ['-n', ns] : ['--all-namespaces'])], { allowFail: true })).stdout.trim();
    };
    for (const rule of CLUSTER_RULES) {
      for (const resource of rule.resources) {
        for (const verb of rule.verbs) assert.equal(await canI(verb, name(rule.apiGroups[0], resource)), 'yes', `${verb} ${resource}`);
      }
    }
    for (const verb of NAMESPACE_RULES[0].verbs) assert.equal(await canI(verb, 'leases.coordination.k8s.io', 'fslm-system'), 'yes');
    const never: [string, string][] = [
      ['delete', 'statefulsets.apps'], ['update', 'deployments.apps'], ['create', 'pods'], ['delete', 'pods'], ['get', 'secrets'], ['list', 'configmaps'],
      ['delete', 'stacks.fslm.dev'], ['create', 'stacks.fslm.dev'], ['create', 'clusterrolebindings.rbac.authorization.k8s.io'], ['create', 'roles.rbac.authorization.k8s.io'],
      ['delete', 'rolebindings.rbac.authorization.k8s.io'], ['patch', 'nodes'], ['create', 'statefulsets.apps'], ['delete', 'jobs.batch'], ['create', 'events'],
    ];
    for (const [verb, r] of never) assert.equal(await canI(verb, r), 'no', `must not ${verb} ${r}`);
    assert.equal(await canI('create', 'leases.coordination.k8s.io', 'default'), 'no', 'leases only in its own namespace');
    // Everything the API server lets it do, beyond what every authenticated user may, is a declared rule.
    const list = (await env.kubectl(['auth', 'can-i', '--list', '--as', CONTROLLER, '-n', 'accept-list'])).stdout.trim().split('\n').slice(1);
    const declared = new Map(CLUSTER_RULES.flatMap((r) => r.resources.map((res) => [name(r.apiGroups[0], res), r.verbs] as const)));
    const everyone = new Set(['selfsubjectreviews.authentication.k8s.io', 'selfsubjectaccessreviews.authorization.k8s.io', 'selfsubjectrulesreviews.authorization.k8s.io']);
    let checked = 0;
    for (const row of list) {
      if (row.trim().startsWith('[')) continue; // non-resource URLs (discovery, health), allowed to every user
      const resource = row.trim().split(/\s+/)[0];
      if (everyone.has(resource)) continue;
      const verbs = /\[([^\]]*)\]\s*$/.exec(row)![1].split(' ');
      assert.ok(declared.has(resource), `undeclared permission: ${row}`);
      for (const verb of verbs) assert.ok(declared.get(resource)!.includes(verb), `undeclared verb: ${row}`);
      checked++;
    }
    assert.equal(checked, declared.size, 'every declared rule shows up, and nothing else');
    // The router of a stack reads Stacks, nothing else.
    assert.deepEqual(ROUTER_RULES.map((r) => r.verbs), [['get', 'list', 'watch']]);
  });

  test('the router serves the Stack it is told to and follows its changes without a restart', async () => {
    const ns = 'follow';
    await env.kubectl(['create', 'namespace', ns]);
    const stacks = new Map<string, StackDefinition>();
    const source = new K8sStackSource({ kubeconfig: env.kubeconfig, namespace: ns, names: ['live'], stacks, log: () => {} });
    try {
      await source.start();
      assert.equal(stacks.size, 0);
      await env.kubectl(['apply', '-n', ns, '-f', '-'], { input: `apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: {name: live}
spec:
  defaults: {model: file:///models/base}
  stages:
  - {name: first, template: '{input}'}
` });
      await env.kubectl(['apply', '-n', ns, '-f', '-'], { input: 'apiVersion: fslm.dev/v1alpha1\nkind: Stack\nmetadata: {name: other}\nspec:\n  stages: [{name: a, model: m, template: "{input}"}]\n' });
      await waitFor(async () => stacks.get('live')?.stages.length === 1 || undefined, { what: 'the stack to be served', timeoutMs: 30_000, intervalMs: 200 });
      await env.kubectl(['patch', 'stack', 'live', '-n', ns, '--type=json', '-p',
        '[{"op":"add","path":"/spec/stages/-","value":{"name":"second","template":"Improve: {stages.first}","params":{"maxNewTokens":64}}}]']);
      const changed = await waitFor(async () => (stacks.get('live')?.stages.length === 2 ? stacks.get('live') : undefined), { what: 'the change to be served', timeoutMs: 30_000, intervalMs: 200 });
      assert.deepEqual(changed.stages.map((s) => [s.name, s.handoffFrom, s.params.max_new_tokens]), [['first', null, undefined], ['second', 'first', 64]]);
      assert.deepEqual([...stacks.keys()], ['live'], 'only the Stack it was told to serve');
      await env.kubectl(['delete', 'stack', 'live', '-n', ns]);
      await waitFor(async () => stacks.size === 0 || undefined, { what: 'the deleted stack to stop being served', timeoutMs: 30_000, intervalMs: 200 });
    } finally {
      await source.stop();
      await env.kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFail: true });
    }
  });
});

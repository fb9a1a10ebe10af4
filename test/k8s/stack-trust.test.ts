// A Stack with trust and NetworkPolicies on the real control plane (kube-apiserver, controller manager,
// scheduler; KWOK nodes stand in for kubelets, so pods "run" without a container runtime and no probe
// runs): the TLS and NATS Secrets are mounted into the pods as rendered, the Stack's two NetworkPolicies
// are created and owned by it, pass `kubectl apply --dry-run=server`, go when the Stack turns them off and
// with the Stack. No CNI runs here, so whether a cluster enforces the policies is not shown.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeLocalCa } from '../../services/cli/local-ca.ts';
import { desiredObjects } from '../../services/controller/src/stack-builder.ts';
import type { Stack } from '../../services/controller/src/stack-types.ts';
import type { ControllerProcess } from '../controller/support/controller-process.ts';
import { SKIP_K8S, TestEnv } from '../controller/support/testenv.ts';
import { waitFor } from '../support/wait.ts';
import { applyOverlay, dropNamespace, namespaceWithStore, startController, waitForStack, type Json } from './support/serving.ts';

let env: TestEnv;
let controller: ControllerProcess;
const NS = 'trusted';

const STACK = `apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: {name: trust}
spec:
  defaults: {model: smollm2-135m-onnx}
  tls: {secretName: trust-tls, clientAuth: true}
  nats:
    tls: {secretName: trust-nats-tls, clientCertificate: true}
    credentialsSecretName: trust-nkeys
  networkPolicy:
    routerClients: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: apps}}}]
  stages:
    - {name: draft, template: '{input}'}
    - {name: final, template: '{stages.draft}'}
`;

describe('a Stack with trust and NetworkPolicies on the cluster', { timeout: 600_000, skip: SKIP_K8S }, () => {
  before(async () => {
    env = await TestEnv.start('trust', { gpuNodes: 3 });
    await applyOverlay(env, 'k8s/overlays/gpu');
    controller = await startController(env, 'ctl-trust');
    await namespaceWithStore(env, NS);
    const ca = makeLocalCa(mkdtempSync(path.join(os.tmpdir(), 'fslm-k8s-ca-')), [{ name: 'door', dns: [`trust-router.${NS}.svc`], usage: 'both' }]);
    const door = ca.files('door');
    for (const name of ['trust-tls', 'trust-nats-tls']) {
      await env.kubectl(['create', 'secret', 'generic', name, '-n', NS, '--type=kubernetes.io/tls',
        `--from-file=tls.crt=${door.certFile}`, `--from-file=tls.key=${door.keyFile}`, `--from-file=ca.crt=${ca.caFile}`]);
    }
    await env.kubectl(['create', 'secret', 'generic', 'trust-nkeys', '-n', NS,
      '--from-literal=router.nk=SUAROUTER', '--from-literal=stage.trust.draft.nk=SUADRAFT', '--from-literal=stage.trust.final.nk=SUAFINAL']);
  });
  after(async () => {
    await dropNamespace(env, NS).catch(() => {});
    await controller?.kill();
    await env?.stop();
  });

  test('the pods mount the Secrets read-only with their flags; two owned NetworkPolicies that pass the server\'s dry run; both go when turned off and with the Stack', async () => {
    await env.kubectl(['apply', '-n', NS, '-f', '-'], { input: STACK });
    const stack = await waitForStack(env, NS, 'trust', '2/2 Ready', (s) => s.status?.readyStages === '2/2');

    const router = await env.json(['get', 'deployment', 'trust-router', '-n', NS]);
    const pod = router.spec.template.spec;
    assert.deepEqual(pod.volumes.map((v: Json) => [v.name, v.secret.secretName, v.secret.defaultMode]),
      [['tls', 'trust-tls', 0o440], ['nats-tls', 'trust-nats-tls', 0o440], ['nats-nkey', 'trust-nkeys', 0o440]]);
    assert.deepEqual(pod.volumes.find((v: Json) => v.name === 'nats-nkey').secret.items, [{ key: 'router.nk', path: 'seed.nk' }]);
    assert.ok(pod.containers[0].volumeMounts.every((m: Json) => m.readOnly === true && m.subPath === undefined));
    assert.equal(pod.containers[0].readinessProbe.exec.command[2], 'health');
    const draft = (await env.json(['get', 'deployment', 'trust-draft', '-n', NS])).spec.template.spec;
    assert.deepEqual(draft.volumes.find((v: Json) => v.name === 'nats-nkey').secret.items, [{ key: 'stage.trust.draft.nk', path: 'seed.nk' }]);
    const pods = (await env.json(['get', 'pods', '-n', NS, '-l', 'fslm.dev/stack=trust'])).items;
    assert.equal(pods.length, 3);

    const policies = (await env.json(['get', 'networkpolicies', '-n', NS, '-l', 'fslm.dev/stack=trust'])).items;
    assert.deepEqual(policies.map((p: Json) => p.metadata.name).sort(), ['trust-router', 'trust-stages']);
    for (const p of policies) {
      assert.deepEqual(p.metadata.ownerReferences.map((r: Json) => [r.kind, r.name, r.uid, r.controller]), [['Stack', 'trust', stack.metadata.uid, true]]);
    }
    const stagesPolicy = policies.find((p: Json) => p.metadata.name === 'trust-stages');
    assert.deepEqual(stagesPolicy.spec.egress[0].ports, [{ protocol: 'TCP', port: 4222 }]);
    assert.deepEqual(stagesPolicy.spec.ingress, [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 9464 }] }]);
    const routerPolicy = policies.find((p: Json) => p.metadata.name === 'trust-router');
    assert.deepEqual(routerPolicy.spec.ingress[0].from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'apps' } } }]);

    // What the builder renders, as a user would apply it.
    const rendered = desiredObjects(stack as Stack, { image: 'i', natsUrl: 'nats://nats.fslm-system.svc:4222', stageGpus: 1 }).filter((o) => o.kind === 'NetworkPolicy');
    const dry = await env.kubectl(['apply', '--dry-run=server', '-n', NS, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rendered }), allowFail: true });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /networkpolicy\.networking\.k8s\.io\/trust-stages .*\(server dry run\)/);

    const left = async () => (await env.kubectl(['get', 'networkpolicies', '-n', NS, '-l', 'fslm.dev/stack=trust', '-o', 'name'])).stdout.trim();
    await env.kubectl(['patch', 'stack', 'trust', '-n', NS, '--type=merge', '-p', '{"spec":{"networkPolicy":{"enabled":false}}}']);
    await waitFor(async () => (await left()) === '' || undefined, { what: 'the turned-off NetworkPolicies to go', timeoutMs: 60_000, intervalMs: 200 });
    await env.kubectl(['patch', 'stack', 'trust', '-n', NS, '--type=merge', '-p', '{"spec":{"networkPolicy":{"enabled":true}}}']);
    await waitFor(async () => (await left()).split('\n').length === 2 || undefined, { what: 'the NetworkPolicies to come back', timeoutMs: 60_000, intervalMs: 200 });

    await env.kubectl(['delete', 'stack', 'trust', '-n', NS]);
    await waitFor(async () => {
      const rest = await env.kubectl(['get', 'deployments,services,pdb,networkpolicies,serviceaccounts,rolebindings,pods', '-n', NS, '-l', 'fslm.dev/stack=trust', '-o', 'name']);
      return rest.stdout.trim() === '' || undefined;
    }, { what: 'everything the Stack made to be gone (garbage collection of owned objects)', timeoutMs: 90_000, intervalMs: 200 });
  });
});

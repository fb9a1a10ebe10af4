// The Stack CRD (k8s/base/crd/stacks.fslm.dev.yaml) and stack-types.ts name the same fields; the
// CRD's printer columns and short name are what `kubectl get stacks` shows.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ServingSpec, StackNatsSpec, StackNetworkPeer, StackNetworkPolicySpec, StackSpec, StackTlsSpec, StackStageSpec, StackStageStatus, StackStatus } from '../src/stack-types.ts';
import { StackCondition } from '../src/stack-types.ts';

const crd = parse(readFileSync(new URL('../../../k8s/base/crd/stacks.fslm.dev.yaml', import.meta.url), 'utf8'), { merge: true });
const root = crd.spec.versions[0].schema.openAPIV3Schema.properties;
const props = (o: { properties: object }) => Object.keys(o.properties).sort();
const keys = <T>(r: Record<keyof T, true>) => Object.keys(r).sort();
const serving: Record<keyof ServingSpec, true> = { model: true, replicas: true, precision: true, resources: true, nodeSelector: true, tolerations: true, placement: true, startTimeoutSeconds: true };

describe('Stack types', { timeout: 30_000 }, () => {
  test('spec fields match stack-types.ts', () => {
    const spec = root.spec;
    assert.deepEqual(props(spec), keys<StackSpec>({ description: true, defaults: true, router: true, store: true, tls: true, nats: true, networkPolicy: true, stages: true }));
    assert.deepEqual(props(spec.properties.defaults), keys<ServingSpec>(serving));
    assert.deepEqual(props(spec.properties.tls), keys<StackTlsSpec>({ secretName: true, clientAuth: true }));
    assert.deepEqual(props(spec.properties.nats), keys<StackNatsSpec>({ tls: true, credentialsSecretName: true }));
    assert.deepEqual(props(spec.properties.networkPolicy), keys<StackNetworkPolicySpec>({ enabled: true, routerClients: true, metricsScrapers: true, modelStore: true }));
    assert.deepEqual(props(spec.properties.networkPolicy.properties.routerClients.items), keys<StackNetworkPeer>({ namespaceSelector: true, podSelector: true, ipBlock: true }));
    assert.deepEqual(props(spec.properties.stages.items), keys<StackStageSpec>({ ...serving, name: true, subject: true, system: true, template: true, params: true, budgetMs: true }));
  });

  test('status fields match stack-types.ts', () => {
    const status = root.status;
    assert.deepEqual(props(status), keys<StackStatus>({ observedGeneration: true, readyStages: true, conditions: true, stages: true, router: true }));
    assert.deepEqual(props(status.properties.stages.items), keys<StackStageStatus>({ name: true, deployment: true, replicas: true, readyReplicas: true, updatedReplicas: true, model: true, modelVersion: true, reason: true, message: true }));
    assert.deepEqual(Object.values(StackCondition), ['Ready', 'Progressing', 'Degraded']);
  });

  test('kubectl get stacks shows ready stages and age; short name stk; a status subresource', () => {
    const v = crd.spec.versions[0];
    assert.deepEqual(v.additionalPrinterColumns.filter((c: { priority?: number }) => !c.priority).map((c: { name: string; jsonPath: string }) => [c.name, c.jsonPath]),
      [['Ready', '.status.readyStages'], ['Age', '.metadata.creationTimestamp']]);
    assert.deepEqual(crd.spec.names.shortNames, ['stk']);
    assert.deepEqual(v.subresources, { status: {} });
  });
});

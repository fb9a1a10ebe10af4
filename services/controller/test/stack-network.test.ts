// The NetworkPolicies a Stack gets (stack-network.ts through desiredObjects): stage pods reach only NATS
// (its namespace and pods, the URL's port) and DNS, plus the model store and collector when named, and
// accept only metrics scrapes; the router reaches NATS, DNS and the API server and accepts clients on
// gRPC and HTTP. What they render is checked here and on a real API server (test/k8s/network-policies);
// no CNI runs in the tests, so what a cluster enforces is not shown.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../src/stack-types.ts';
import { desiredObjects } from '../src/stack-builder.ts';
import { DEFAULT_NETWORK, natsPorts, type NetworkPolicy } from '../src/stack-network.ts';
import type { ServingProfile } from '../src/stack-serving.ts';

const PROFILE: ServingProfile = { image: 'i', natsUrl: 'nats://nats.fslm-system.svc:4222', stageGpus: 0 };

function stack(spec: Partial<Stack['spec']> = {}): Stack {
  return {
    apiVersion: 'fslm.dev/v1alpha1', kind: 'Stack', metadata: { name: 'web', namespace: 'apps', uid: 'uid-web', generation: 1 },
    spec: { stages: [{ name: 'a', model: 'm', template: '{input}' }], ...spec },
  };
}

const policies = (s: Stack, profile = PROFILE): Map<string, NetworkPolicy> =>
  new Map(desiredObjects(s, profile).filter((o) => o.kind === 'NetworkPolicy').map((o) => [o.metadata!.name!, o as NetworkPolicy]));

const NATS_PEER = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'fslm-system' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'nats' } } };
const DNS = { ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] };
const MONITORING = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }];

describe('stack NetworkPolicies', { timeout: 30_000 }, () => {
  test('stage pods: egress only to the NATS pods on the client port and to DNS; ingress only to metrics from the scrapers', () => {
    const p = policies(stack()).get('web-stages')!;
    assert.deepEqual(p.spec.podSelector, { matchLabels: { 'fslm.dev/stack': 'web', 'app.kubernetes.io/component': 'stage' } });
    assert.deepEqual(p.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(p.spec.egress, [{ to: [NATS_PEER], ports: [{ protocol: 'TCP', port: 4222 }] }, DNS]);
    assert.deepEqual(p.spec.ingress, [{ from: MONITORING, ports: [{ protocol: 'TCP', port: 9464 }] }]);
    assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'fslm.dev/v1alpha1', kind: 'Stack', name: 'web', uid: 'uid-web', controller: true, blockOwnerDeletion: true }]);
    assert.equal(p.metadata!.labels!['fslm.dev/stack'], 'web');
    assert.equal(p.metadata!.labels!['fslm.dev/stage'], undefined, 'a stack-wide object, not a stage\'s');
  });

  test('the router: clients from anywhere on gRPC and HTTP, scrapers on HTTP; egress to NATS, DNS and the API server', () => {
    const p = policies(stack()).get('web-router')!;
    assert.deepEqual(p.spec.podSelector, { matchLabels: { 'fslm.dev/stack': 'web', 'app.kubernetes.io/component': 'router' } });
    assert.deepEqual(p.spec.ingress, [
      { ports: [{ protocol: 'TCP', port: 50050 }, { protocol: 'TCP', port: 8080 }] },
      { from: MONITORING, ports: [{ protocol: 'TCP', port: 8080 }] },
    ]);
    assert.deepEqual(p.spec.egress, [
      { to: [NATS_PEER], ports: [{ protocol: 'TCP', port: 4222 }] }, DNS,
      { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 6443 }] },
    ]);
  });

  test('the Stack names router clients, scrapers and the model store; the controller names NATS, the API server and the collector', () => {
    const clients = [{ namespaceSelector: { matchLabels: { team: 'chat' } }, podSelector: { matchLabels: { app: 'ui' } } }];
    const scrapers = [{ podSelector: { matchLabels: { app: 'prometheus' } } }];
    const s = stack({ networkPolicy: { routerClients: clients, metricsScrapers: scrapers, modelStore: { to: [{ ipBlock: { cidr: '192.0.2.10/32' } }], ports: [443, 8333] } } });
    const profile: ServingProfile = {
      ...PROFILE, natsUrl: 'tls://nats-0.nats:4443,tls://nats-1.nats:4443',
      network: { ...DEFAULT_NETWORK, natsNamespace: 'bus', natsPodLabels: { app: 'nats' }, apiServerCidrs: ['10.0.0.1/32'],
        collector: { url: 'http://otel.observability.svc:4318', namespace: 'observability', podLabels: { app: 'otelcol' } } },
    };
    const ps = policies(s, profile);
    const stages = ps.get('web-stages')!;
    const nats = { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'bus' } }, podSelector: { matchLabels: { app: 'nats' } } }], ports: [{ protocol: 'TCP', port: 4443 }] };
    const collector = { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } }, podSelector: { matchLabels: { app: 'otelcol' } } }], ports: [{ protocol: 'TCP', port: 4318 }] };
    assert.deepEqual(stages.spec.egress, [nats, DNS, collector, { to: [{ ipBlock: { cidr: '192.0.2.10/32' } }], ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 8333 }] }]);
    assert.deepEqual(stages.spec.ingress, [{ from: scrapers, ports: [{ protocol: 'TCP', port: 9464 }] }]);
    const router = ps.get('web-router')!;
    assert.deepEqual(router.spec.ingress[0].from, clients);
    assert.deepEqual(router.spec.egress.at(-1)!.to, [{ ipBlock: { cidr: '10.0.0.1/32' } }]);
    // The pods are told where the collector is.
    const env = desiredObjects(s, profile).filter((o) => o.kind === 'Deployment')
      .map((d) => (d as { spec: { template: { spec: { containers: Array<{ env?: Array<{ name: string; value?: string }> }> } } } }).spec.template.spec.containers[0].env);
    for (const e of env) assert.ok(e?.some((v) => v.name === 'OTEL_EXPORTER_OTLP_ENDPOINT' && v.value === 'http://otel.observability.svc:4318'));
  });

  test('none when the Stack or the controller turns them off', () => {
    assert.equal(policies(stack({ networkPolicy: { enabled: false } })).size, 0);
    assert.equal(policies(stack(), { ...PROFILE, network: { ...DEFAULT_NETWORK, enabled: false } }).size, 0);
  });

  test('NATS client ports come from every URL (4222 when a URL names none)', () => {
    assert.deepEqual(natsPorts('nats://a:4222,nats://b:5222,tls://c'), [4222, 5222]);
    assert.deepEqual(natsPorts('nats://nats.fslm-system.svc'), [4222]);
  });
});

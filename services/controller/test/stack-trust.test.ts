// Trust of a Stack's pods (stack-trust.ts through stack-builder.ts): the doors' TLS Secret and the NATS
// Secrets mounted read-only as whole volumes (never subPath, so renewals reach running pods), each pod
// only its own NKey seed, the file flags of `fslm stage` and `fslm router`, and probes that work under
// TLS (`fslm health` exec probes); a Stack without trust renders exactly as before (native gRPC probes).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import type { Stack } from '../src/stack-types.ts';
import { desiredObjects } from '../src/stack-builder.ts';
import type { ServingProfile } from '../src/stack-serving.ts';

const PROFILE: ServingProfile = { image: 'ghcr.io/fslm/fslm:0.1.0', natsUrl: 'tls://nats.fslm-system.svc:4222', stageGpus: 0 };

function stack(spec: Partial<Stack['spec']> = {}): Stack {
  return {
    apiVersion: 'fslm.dev/v1alpha1', kind: 'Stack',
    metadata: { name: 'trust', namespace: 'apps', uid: 'uid-trust', generation: 1 },
    spec: { stages: [{ name: 'a', model: 'm', template: '{input}' }, { name: 'b', model: 'm', template: '{stages.a}' }], ...spec },
  };
}

const deployments = (s: Stack): Map<string, V1Deployment> =>
  new Map(desiredObjects(s, PROFILE).filter((o) => o.kind === 'Deployment').map((o) => [o.metadata!.name!, o as V1Deployment]));
const pod = (d: V1Deployment): V1PodSpec => d.spec!.template.spec!;
const main = (d: V1Deployment): V1Container => pod(d).containers[0];
/** The value after `flag` in the container's args. */
const flag = (c: V1Container, name: string): string | undefined => {
  const i = c.args!.indexOf(name);
  return i < 0 ? undefined : c.args![i + 1];
};

const FULL: Partial<Stack['spec']> = {
  tls: { secretName: 'trust-tls', clientAuth: true },
  nats: { tls: { secretName: 'nats-client', clientCertificate: true }, credentialsSecretName: 'trust-nkeys' },
};

describe('stack trust', { timeout: 30_000 }, () => {
  test('the doors serve TLS from the kubernetes.io/tls Secret, mounted read-only (0440, group of the non-root user), client certificates required', () => {
    for (const d of deployments(stack(FULL)).values()) {
      const c = main(d);
      assert.equal(flag(c, '--tls-cert'), '/etc/fslm/tls/tls.crt');
      assert.equal(flag(c, '--tls-key'), '/etc/fslm/tls/tls.key');
      assert.equal(flag(c, '--tls-ca'), '/etc/fslm/tls/ca.crt');
      assert.ok(c.args!.includes('--tls-client-auth'));
      const volume = pod(d).volumes!.find((v) => v.name === 'tls')!;
      assert.deepEqual(volume.secret, { secretName: 'trust-tls', defaultMode: 0o440 });
      assert.deepEqual(c.volumeMounts!.find((m) => m.name === 'tls'), { name: 'tls', mountPath: '/etc/fslm/tls', readOnly: true });
      // Whole-volume mounts only: a subPath mount would never see a renewed Secret.
      assert.ok(c.volumeMounts!.every((m) => m.subPath === undefined && m.subPathExpr === undefined));
      assert.equal(pod(d).securityContext!.fsGroup, 1000);
    }
  });

  test('without clientAuth the doors serve TLS but ask for no client certificate', () => {
    const c = main(deployments(stack({ tls: { secretName: 'trust-tls' } })).get('trust-router')!);
    assert.equal(flag(c, '--tls-cert'), '/etc/fslm/tls/tls.crt');
    assert.equal(flag(c, '--tls-ca'), undefined);
    assert.ok(!c.args!.includes('--tls-client-auth'));
    const exec = c.readinessProbe!.exec!.command!;
    assert.ok(!exec.includes('--tls-cert'), 'the probe presents no certificate to a door that asks for none');
  });

  test('each stage pod mounts only its own NKey seed, the router only the router\'s; NATS TLS with a client certificate', () => {
    const ds = deployments(stack(FULL));
    const expected: Record<string, string> = { 'trust-a': 'stage.trust.a.nk', 'trust-b': 'stage.trust.b.nk', 'trust-router': 'router.nk' };
    for (const [name, key] of Object.entries(expected)) {
      const d = ds.get(name)!;
      const c = main(d);
      const nkey = pod(d).volumes!.find((v) => v.name === 'nats-nkey')!;
      assert.deepEqual(nkey.secret, { secretName: 'trust-nkeys', defaultMode: 0o440, items: [{ key, path: 'seed.nk' }] }, name);
      assert.equal(flag(c, '--nats-nkey'), '/etc/fslm/nats-nkey/seed.nk');
      assert.equal(flag(c, '--nats-ca'), '/etc/fslm/nats-tls/ca.crt');
      assert.equal(flag(c, '--nats-cert'), '/etc/fslm/nats-tls/tls.crt');
      assert.equal(flag(c, '--nats-key'), '/etc/fslm/nats-tls/tls.key');
      assert.deepEqual(pod(d).volumes!.find((v) => v.name === 'nats-tls')!.secret!.items!.map((i) => i.key), ['ca.crt', 'tls.crt', 'tls.key']);
      assert.equal(flag(c, '--nats'), 'tls://nats.fslm-system.svc:4222');
    }
    // The fetch step gets none of it.
    const fetch = pod(ds.get('trust-a')!).initContainers![0];
    assert.ok(fetch.volumeMounts!.every((m) => !m.mountPath.startsWith('/etc/fslm')));
  });

  test('NATS TLS without a client certificate mounts and names only the CA', () => {
    const d = deployments(stack({ nats: { tls: { secretName: 'nats-ca' } } })).get('trust-a')!;
    assert.deepEqual(pod(d).volumes!.find((v) => v.name === 'nats-tls')!.secret!.items, [{ key: 'ca.crt', path: 'ca.crt' }]);
    assert.equal(flag(main(d), '--nats-cert'), undefined);
    assert.equal(flag(main(d), '--nats-nkey'), undefined);
  });

  test('under TLS every probe runs `fslm health` over mTLS on the pod\'s own door, with a longer timeout', () => {
    const ds = deployments(stack(FULL));
    const stage = main(ds.get('trust-a')!);
    // Startup and readiness ask for the StageService (loaded and subscribed); liveness for the process alone.
    for (const [probe, service] of [[stage.startupProbe!, 'fslm.v1.StageService'], [stage.readinessProbe!, 'fslm.v1.StageService'], [stage.livenessProbe!, 'liveness']] as const) {
      assert.equal(probe.grpc, undefined);
      assert.deepEqual(probe.exec!.command, ['node', '/app/bin/fslm.js', 'health', '--grpc', '127.0.0.1:50051', '--service', service,
        '--tls-ca', '/etc/fslm/tls/ca.crt', '--tls-cert', '/etc/fslm/tls/tls.crt', '--tls-key', '/etc/fslm/tls/tls.key', '--no-verify-name']);
      assert.equal(probe.timeoutSeconds, 5);
    }
    const router = main(ds.get('trust-router')!);
    assert.deepEqual(router.readinessProbe!.exec!.command!.slice(2, 7), ['health', '--grpc', '127.0.0.1:50050', '--service', 'fslm.v1.StackService']);
    // The stage's /metrics and the router's HTTP door serve HTTPS under TLS: scrapers are told so.
    for (const d of ds.values()) assert.equal(pod(d) && d.spec!.template.metadata!.annotations!['prometheus.io/scheme'], 'https');
  });

  test('a Stack without trust keeps native gRPC probes and mounts no Secret', () => {
    for (const d of deployments(stack()).values()) {
      const c = main(d);
      assert.ok(c.readinessProbe!.grpc && !c.readinessProbe!.exec);
      assert.equal(c.readinessProbe!.timeoutSeconds, undefined);
      assert.ok(!(pod(d).volumes ?? []).some((v) => v.secret));
      assert.ok(!c.args!.some((a) => a.startsWith('--tls') || a.startsWith('--nats-')));
      assert.equal(d.spec!.template.metadata!.annotations!['prometheus.io/scheme'], undefined);
    }
  });
});

// `fslm health`, the exec probe of a door with TLS on Kubernetes, against a real grpc-js door with the
// fslm TLS credentials (client certificates required): SERVING over mTLS with the door's own certificate
// as the client's (exit 0), and exit 1 without a client certificate, with another CA, with the name
// checked against a certificate that names only the Service, and when the service is NOT_SERVING;
// plaintext doors are checked without TLS flags; a wrong command line exits 2.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { makeLocalCa, type LocalCa } from '../../services/cli/local-ca.ts';
import { grpcServerCredentials } from '../../services/shared/grpc-tls.ts';
import { REPO_ROOT } from '../support/models.ts';

const execFileP = promisify(execFile);
const SERVICE = 'fslm.v1.StageService';

/** Runs `fslm health ARGS`; resolves with its exit code and output. */
async function health(args: string[]): Promise<{ code: number; out: string }> {
  return execFileP(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), 'health', ...args], { cwd: REPO_ROOT, timeout: 60_000 })
    .then(({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, out: `${e.stdout}${e.stderr}` }));
}

async function serve(credentials: grpc.ServerCredentials): Promise<{ server: grpc.Server; health: HealthImplementation; address: string }> {
  const server = new grpc.Server();
  const health = new HealthImplementation({ '': 'SERVING', [SERVICE]: 'SERVING' });
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (e, p) => (e ? reject(e) : resolve(p))));
  return { server, health, address: `127.0.0.1:${port}` };
}

describe('fslm health (the exec probe of a door with TLS)', { timeout: 180_000 }, () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'fslm-health-'));
  let ca: LocalCa;
  let other: LocalCa;
  let mtls: Awaited<ReturnType<typeof serve>>;
  let plain: Awaited<ReturnType<typeof serve>>;
  const door = () => ca.files('door');
  const tlsArgs = () => ['--tls-ca', ca.caFile, '--tls-cert', door().certFile, '--tls-key', door().keyFile];

  before(async () => {
    // As on a cluster: the certificate names the Service, not the address the probe dials; it serves
    // and authenticates as a client (the probe presents it).
    ca = makeLocalCa(path.join(root, 'ca'), [{ name: 'door', dns: ['trust-router.apps.svc'], usage: 'both' }]);
    other = makeLocalCa(path.join(root, 'other'), [{ name: 'door', dns: ['trust-router.apps.svc'], usage: 'both' }], 'another CA');
    mtls = await serve(grpcServerCredentials({ certFile: door().certFile, keyFile: door().keyFile, caFile: ca.caFile, requireClientCert: true }));
    plain = await serve(grpc.ServerCredentials.createInsecure());
  });
  after(() => {
    mtls?.server.forceShutdown();
    plain?.server.forceShutdown();
  });

  test('SERVING over mTLS with the door\'s own certificate, the chain checked and the name not: exit 0', async () => {
    const { code, out } = await health(['--grpc', mtls.address, '--service', SERVICE, ...tlsArgs(), '--no-verify-name']);
    assert.equal(code, 0, out);
    assert.match(out, /SERVING/);
  });

  test('refused without a client certificate, by a door of another CA, or when the name is checked: exit 1', async () => {
    const noCert = await health(['--grpc', mtls.address, '--service', SERVICE, '--tls-ca', ca.caFile, '--no-verify-name']);
    assert.equal(noCert.code, 1, noCert.out);
    const otherCa = await health(['--grpc', mtls.address, '--service', SERVICE, '--tls-ca', other.caFile,
      '--tls-cert', other.files('door').certFile, '--tls-key', other.files('door').keyFile, '--no-verify-name']);
    assert.equal(otherCa.code, 1, otherCa.out);
    const named = await health(['--grpc', mtls.address, '--service', SERVICE, ...tlsArgs()]);
    assert.equal(named.code, 1, named.out);
    assert.match(named.out, /fslm health: 127\.0\.0\.1:\d+ \(fslm\.v1\.StageService\): /);
  });

  test('a service that is NOT_SERVING: exit 1', async () => {
    mtls.health.setStatus(SERVICE, 'NOT_SERVING');
    try {
      const { code, out } = await health(['--grpc', mtls.address, '--service', SERVICE, ...tlsArgs(), '--no-verify-name']);
      assert.equal(code, 1, out);
      assert.match(out, /NOT_SERVING/);
    } finally {
      mtls.health.setStatus(SERVICE, 'SERVING');
    }
  });

  test('a plaintext door without TLS flags: exit 0', async () => {
    const { code, out } = await health(['--grpc', plain.address]);
    assert.equal(code, 0, out);
  });

  test('a wrong command line: exit 2 with the reason', async () => {
    const noCa = await health(['--grpc', plain.address, '--tls-cert', door().certFile, '--tls-key', door().keyFile]);
    assert.equal(noCa.code, 2, noCa.out);
    assert.match(noCa.out, /--tls-cert and --tls-key need --tls-ca/);
    const noAddress = await health([]);
    assert.equal(noAddress.code, 2, noAddress.out);
    assert.match(noAddress.out, /--grpc/);
    const missing = await health(['--grpc', plain.address, '--tls-ca', path.join(root, 'missing.crt')]);
    assert.equal(missing.code, 2, missing.out);
    assert.match(missing.out, /cannot read the TLS CA certificate .*missing\.crt: ENOENT/);
  });
});

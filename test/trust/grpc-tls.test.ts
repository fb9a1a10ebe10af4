// TLS on a gRPC door (a real `fslm stage` process) with client-certificate authentication: a client with a
// certificate from the door's CA is served; one without a certificate, with a certificate from another CA,
// or without TLS is refused; a certificate and key replaced on disk are served without a restart.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { makeLocalCa, type LocalCa } from '../../services/cli/local-ca.ts';
import type { DescribeResponse__Output } from '../../services/shared/generated/fslm/v1/DescribeResponse.ts';
import type { StageServiceClient } from '../../services/shared/generated/fslm/v1/StageService.ts';
import type { ProtoGrpcType } from '../../services/shared/generated/stage.ts';
import { grpcChannelCredentials, type GrpcClientTls } from '../../services/shared/grpc-tls.ts';
import { loadGrpcObject } from '../../services/shared/proto.ts';
import { testModels } from '../support/models.ts';
import { startFslm, type FslmProcess } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

/** Describe over a fresh channel with `credentials`; resolves with the response or the gRPC error. */
function describeWith(address: string, credentials: grpc.ChannelCredentials): Promise<{ response?: DescribeResponse__Output; error?: grpc.ServiceError }> {
  const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']);
  const client: StageServiceClient = new proto.fslm.v1.StageService(address, credentials);
  return new Promise((resolve) => {
    client.Describe({}, { deadline: new Date(Date.now() + 20_000) }, (error, response) => {
      client.close();
      resolve(error ? { error } : { response });
    });
  });
}

describe('gRPC TLS with client-certificate authentication', { timeout: 300_000 }, () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'fslm-tls-'));
  let ca: LocalCa;
  let other: LocalCa;
  let stage: FslmProcess;
  let address: string;
  let served: { certFile: string; keyFile: string };

  before(async () => {
    ca = makeLocalCa(path.join(root, 'ca'), [
      { name: 'stage', ips: ['127.0.0.1'], usage: 'server' },
      { name: 'alice', usage: 'client' },
    ]);
    other = makeLocalCa(path.join(root, 'other'), [
      { name: 'stage', ips: ['127.0.0.1'], usage: 'server' },
      { name: 'mallory', usage: 'client' },
    ], 'another CA');
    // The stage serves copies, so the test can replace them.
    served = { certFile: path.join(root, 'served.crt'), keyFile: path.join(root, 'served.key') };
    copyFileSync(ca.files('stage').certFile, served.certFile);
    copyFileSync(ca.files('stage').keyFile, served.keyFile);
    stage = await startFslm(['stage', '--model', testModels('tiny')['tiny-onnx'], '--grpc', '127.0.0.1:0', '--threads', '1',
      '--tls-cert', served.certFile, '--tls-key', served.keyFile, '--tls-ca', ca.caFile, '--tls-client-auth']);
    address = String(stage.ready.grpc);
  });
  after(async () => {
    await stage?.stop();
  });

  const tls = (caFile: string, client?: { certFile: string; keyFile: string }): GrpcClientTls => ({ caFile, ...client });

  test('a client with a certificate from the CA is served', async () => {
    const { response, error } = await describeWith(address, grpcChannelCredentials(tls(ca.caFile, ca.files('alice'))));
    assert.equal(error, undefined);
    assert.ok(response?.manifest?.name);
  });

  test('a client without a certificate is refused', async () => {
    const { error } = await describeWith(address, grpcChannelCredentials(tls(ca.caFile)));
    assert.equal(error?.code, grpc.status.UNAVAILABLE, String(error?.details));
  });

  test('a client whose certificate another CA signed is refused', async () => {
    const { error } = await describeWith(address, grpcChannelCredentials(tls(ca.caFile, other.files('mallory'))));
    assert.equal(error?.code, grpc.status.UNAVAILABLE, String(error?.details));
  });

  test('a plaintext client is refused', async () => {
    const { error } = await describeWith(address, grpc.credentials.createInsecure());
    assert.equal(error?.code, grpc.status.UNAVAILABLE, String(error?.details));
  });

  test('a client that does not trust the server\'s CA refuses the server', async () => {
    const { error } = await describeWith(address, grpcChannelCredentials(tls(other.caFile, ca.files('alice'))));
    assert.equal(error?.code, grpc.status.UNAVAILABLE, String(error?.details));
  });

  test('a certificate and key replaced on disk are served without a restart', async () => {
    const trustsOther = () => grpcChannelCredentials(tls(other.caFile, ca.files('alice')));
    const before = await describeWith(address, trustsOther());
    assert.ok(before.error, `before the replacement the server presents the first CA's certificate: ${JSON.stringify(before.response)}`);
    // Replace both files by rename (as cert-manager and kubelet do), key first.
    copyFileSync(other.files('stage').keyFile, `${served.keyFile}.new`);
    copyFileSync(other.files('stage').certFile, `${served.certFile}.new`);
    renameSync(`${served.keyFile}.new`, served.keyFile);
    renameSync(`${served.certFile}.new`, served.certFile);
    const response = await waitFor(async () => (await describeWith(address, trustsOther())).response, { timeoutMs: 60_000, what: 'the stage to serve the new certificate', intervalMs: 500 });
    assert.ok(response.manifest?.name);
    assert.equal(stage.child.exitCode, null, 'the same process serves');
  });
});

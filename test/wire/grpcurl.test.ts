// gRPC doors through an independent client that knows nothing of fslm but what server reflection
// tells it: grpcurl (built from the Go module proxy by scripts/grpcurl, cached), against a real router
// and a real stage (tiny model, real nats-server). It lists, describes (map fields included) and calls
// every service a door serves, health included, and the descriptors it received are byte for byte
// those protoc writes (services/shared/generated/descriptors.ts).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FILE_DESCRIPTOR_PROTOS } from '../../services/shared/generated/descriptors.ts';
import { startCluster, type Cluster } from '../stack/support/cluster.ts';
import { StackBuilder } from '../stack/support/stack-builder.ts';
import { REPO_ROOT, testModels } from '../support/models.ts';

/** A first build of grpcurl compiles it from the Go module proxy: a few minutes on 2 busy cores. */
const GRPCURL_BUILD_TIMEOUT_MS = 900_000;
const SERVED = (service: string) => [service, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];

let grpcurlBin: string;
let cluster: Cluster;
let router: string;
let stage: string;

/**
 * `grpcurl -plaintext FLAGS ADDRESS CALL...` (reflection only, bounded by -max-time): resolves with its
 * stdout; rejects with its stderr.
 */
function grpcurl(address: string, call: string[], flags: string[] = []): Promise<string> {
  const args = ['-plaintext', '-max-time', '60', ...flags, address, ...call];
  return new Promise((resolve, reject) => {
    execFile(grpcurlBin, args, { timeout: 90_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => (error ? reject(new Error(`grpcurl ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout)));
  });
}

/** The files of a serialized FileDescriptorSet (field 1, repeated bytes), as they were sent. */
function descriptorSetFiles(set: Buffer): Buffer[] {
  const files: Buffer[] = [];
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = set[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < set.length) {
    const key = varint();
    assert.equal(key, (1 << 3) | 2, 'a FileDescriptorSet holds only its files');
    const length = varint();
    files.push(set.subarray(at, at + length));
    at += length;
  }
  return files;
}

/** The name (field 1) of a serialized FileDescriptorProto. */
const fileName = (file: Buffer): string => {
  assert.equal(file[0], (1 << 3) | 2);
  return file.subarray(2, 2 + file[1]).toString('utf8');
};

before(async () => {
  grpcurlBin = execFileSync(path.join(REPO_ROOT, 'scripts/grpcurl'), [], { encoding: 'utf8', timeout: GRPCURL_BUILD_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'inherit'] })
    .trim().split('\n').pop()!;
  const p = { maxNewTokens: 4, temperature: 0 };
  cluster = await startCluster({
    stack: new StackBuilder('wire').stage({ name: 'first', template: '{input}', params: p }).stage({ name: 'second', template: 'Say: {stages.first}', params: p }),
    modelDir: testModels('tiny')['tiny-onnx'],
  });
  router = cluster.grpc;
  stage = String(cluster.stages.get('first')![0].ready.grpc);
}, { timeout: GRPCURL_BUILD_TIMEOUT_MS + 300_000 });
after(() => cluster?.stop(), { timeout: 120_000 });

describe('grpcurl through reflection alone', { timeout: 1_200_000 }, () => {
  test('list names every service each door serves: its own, health and reflection', async () => {
    assert.deepEqual((await grpcurl(router, ['list'])).trim().split('\n').sort(), SERVED('fslm.v1.StackService').sort());
    assert.deepEqual((await grpcurl(stage, ['list'])).trim().split('\n').sort(), SERVED('fslm.v1.StageService').sort());
  });

  test('describe shows StackService, and RunRequest with its params map', async () => {
    const service = await grpcurl(router, ['describe', 'fslm.v1.StackService']);
    for (const method of ['Run', 'RunStream', 'ListStacks']) assert.match(service, new RegExp(`rpc ${method} \\(`));
    const request = await grpcurl(router, ['describe', 'fslm.v1.RunRequest']);
    assert.match(request, /map<string, \.fslm\.v1\.GenerationParams> params = 4;/);
    const manifest = await grpcurl(stage, ['describe', 'fslm.v1.ModelManifest']);
    assert.match(manifest, /map<string, string> onnx = 9;/);
    assert.match(manifest, /map<string, double> metrics = 11;/);
  });

  test('the descriptors reflection sends are byte for byte those protoc writes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-grpcurl-'));
    for (const [door, address, service] of [['router', router, 'fslm.v1.StackService'], ['stage', stage, 'fslm.v1.StageService']] as const) {
      const out = path.join(dir, `${door}.protoset`);
      await grpcurl(address, ['describe', service], ['-protoset-out', out]);
      const files = descriptorSetFiles(readFileSync(out));
      assert.ok(files.length >= 2, `${door}: the service's file and its imports`);
      for (const file of files) {
        const name = fileName(file);
        assert.ok(FILE_DESCRIPTOR_PROTOS[name], `${door} sent ${name}, which protoc did not write`);
        assert.ok(file.equals(Buffer.from(FILE_DESCRIPTOR_PROTOS[name], 'base64')), `${door}: ${name} differs from protoc's`);
      }
    }
  });

  test('grpc.health.v1.Health/Check answers SERVING on both doors, for the server and for its service', async () => {
    for (const [address, service] of [[router, 'fslm.v1.StackService'], [stage, 'fslm.v1.StageService']]) {
      assert.equal(JSON.parse(await grpcurl(address, ['grpc.health.v1.Health/Check'])).status, 'SERVING');
      assert.equal(JSON.parse(await grpcurl(address, ['grpc.health.v1.Health/Check'], ['-d', JSON.stringify({ service })])).status, 'SERVING');
    }
  });

  test('StackService/ListStacks and a Run with per-stage params (a map) work from reflection alone', async () => {
    const stacks = JSON.parse(await grpcurl(router, ['fslm.v1.StackService/ListStacks']));
    assert.deepEqual(stacks.stacks.map((s: { name: string }) => s.name), ['wire']);
    const run = JSON.parse(await grpcurl(router, ['fslm.v1.StackService/Run'], ['-d', JSON.stringify({ stack: 'wire', input: 'Name a colour.', params: { second: { maxNewTokens: 2 } } })]));
    assert.deepEqual(run.stages.map((s: { stage: string }) => s.stage), ['first', 'second']);
    assert.ok(Number(run.stages[1].usage.completionTokens) <= 2, `the map's params reached the second stage: ${JSON.stringify(run.stages[1].usage)}`);
  });

  test('StageService/Describe returns the manifest with its map fields', async () => {
    const described = JSON.parse(await grpcurl(stage, ['fslm.v1.StageService/Describe']));
    assert.equal(described.manifest.name, 'tiny');
    assert.deepEqual(Object.keys(described.manifest.onnx).sort(), ['fp32', 'int4', 'int8']);
    assert.ok(Object.keys(described.manifest.files).includes('onnx/model.onnx'));
  });
});

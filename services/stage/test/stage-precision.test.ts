// `fslm stage --precision`: a real stage process serves the chosen file and says so in Describe, its
// ready line and its metrics; a precision it does not know, or one the artifact lacks, is refused at start.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, test } from 'node:test';
import type { DescribeResponse__Output } from '../../shared/generated/fslm/v1/DescribeResponse.ts';
import type { StageServiceClient } from '../../shared/generated/fslm/v1/StageService.ts';
import type { ProtoGrpcType } from '../../shared/generated/stage.ts';
import { loadGrpcObject } from '../../shared/proto.ts';
import { REPO_ROOT, testModels } from '../../../test/support/models.ts';
import { startFslm, type FslmProcess } from '../../../test/support/processes.ts';

const run = promisify(execFile);

/** `fslm stage ARGS` expected to exit at once: its exit code and stderr. */
async function refused(args: string[]): Promise<{ code: number; stderr: string }> {
  const error = await run(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), 'stage', ...args], { timeout: 120_000 }).then(() => null, (e) => e);
  assert.ok(error, 'the stage was expected to refuse to start');
  return { code: error.code, stderr: error.stderr };
}

describe('a stage serving int4', { timeout: 300_000 }, () => {
  let stage: FslmProcess;
  let client: StageServiceClient;
  before(async () => {
    stage = await startFslm(['stage', '--model', testModels('tiny')['tiny-onnx'], '--precision', 'int4', '--grpc', '127.0.0.1:0', '--threads', '1', '--metrics', '127.0.0.1:0']);
    const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']);
    client = new proto.fslm.v1.StageService(String(stage.ready.grpc), grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await stage?.stop();
  });

  test('Describe and the ready line name the precision; the metrics carry it as a label', async () => {
    assert.equal(stage.ready.precision, 'int4');
    const description = await new Promise<DescribeResponse__Output>((resolve, reject) => client.Describe({}, (e, r) => (e ? reject(e) : resolve(r!))));
    assert.equal(description.precision, 'int4');
    assert.equal(description.manifest!.onnx!.int4, 'onnx/model_q4.onnx');
    assert.ok('fidelity_int4.min_teacher_forced_agreement' in description.manifest!.metrics!, 'the export fidelity travels with the manifest');
    await new Promise<void>((resolve, reject) => {
      const call = client.Generate({ prompt: 'Hello', params: { max_new_tokens: 4 } });
      call.on('data', () => undefined).on('error', reject).on('end', resolve);
    });
    const metrics = await (await fetch(`http://${stage.ready.metrics}/metrics`)).text();
    assert.match(metrics, /fslm_stage_output_tokens_total\{[^}]*fslm_precision="int4"[^}]*\} 4/);
  });
});

describe('refused precisions', { timeout: 300_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fslm-no-int4-'));
    await cp(testModels('tiny')['tiny-onnx'], dir, { recursive: true });
    const manifestPath = path.join(dir, 'fslm.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    delete manifest.onnx.int4;
    delete manifest.files['onnx/model_q4.onnx'];
    await rm(path.join(dir, 'onnx/model_q4.onnx'));
    await writeFile(manifestPath, JSON.stringify(manifest));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('an unknown precision is a usage error', async () => {
    const { code, stderr } = await refused(['--model', dir, '--precision', 'int3']);
    assert.equal(code, 2);
    assert.match(stderr, /'--precision <P>' argument 'int3' is invalid\. Allowed choices are fp32, int8, int4/);
  });

  test('a precision the artifact has no file for names the ones it has', async () => {
    const { code, stderr } = await refused(['--model', dir, '--precision', 'int4', '--grpc', '127.0.0.1:0']);
    assert.equal(code, 2);
    assert.match(stderr, /has no int4 model \(fslm\.json onnx\.int4\); it has: fp32, int8/);
  });
});

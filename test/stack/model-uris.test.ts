// Models that travel, end to end on one machine: the Python trainer fine-tunes a stage and publishes it to a
// real S3-compatible store (SeaweedFS) with --out s3://…; `fslm model fetch` reads it back with every sha256
// checked; `fslm up` serves a stack whose stages name that s3:// version and a file:// artifact (as
// `fslm status` prints trained outputs), and refuses a tampered version before starting anything.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, testModels } from '../support/models.ts';
import { startFslm } from '../support/processes.ts';
import { startS3Server, type S3Server } from '../support/seaweedfs.ts';
import { StackBuilder } from './support/stack-builder.ts';

const FSLM = path.join(REPO_ROOT, 'bin/fslm.js');

function fslm(args: string[], env: Record<string, string>, timeoutMs = 600_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [FSLM, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const lastJson = (text: string) => JSON.parse(text.trim().split('\n').pop()!) as Record<string, unknown>;

describe('a trained model travels through s3:// to a served stage', { timeout: 25 * 60_000 }, () => {
  let s3: S3Server;
  let root: string;
  let env: Record<string, string>;
  let trained: { uri: string; version: string };
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'fslm-model-uris-'));
    s3 = await startS3Server();
    env = { ...s3.env, FSLM_MODEL_CACHE: path.join(root, 'cache') };
    const rows = Array.from({ length: 16 }, (_, i) => JSON.stringify({ stage: 'final', system: 'You add numbers.', prompt: `What is ${i} plus 2?`, completion: `${i} plus 2 is ${i + 2}.` }));
    await writeFile(path.join(root, 'final.jsonl'), `${rows.join('\n')}\n`);
    const uri = `s3://${s3.bucket}/runs/r1/final`;
    const r = await fslm(['trainer', 'finetune', '--data', path.join(root, 'final.jsonl'), '--base-model', testModels('tiny').tiny, '--out', uri,
      '--work', path.join(root, 'work'), '--stage', 'final', '--max-steps', '2', '--batch-size', '2', '--max-length', '64', '--eval-fraction', '0',
      '--threads', '1'], env);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const done = lastJson(r.stdout);
    assert.equal(done.out, uri);
    trained = { uri, version: String(done.version) };
  });
  after(async () => {
    await s3?.stop();
    await rm(root, { recursive: true, force: true });
  });

  test('the trainer published it: fslm model fetch reads it back, every sha256 checked, the version that of its fslm.json', async () => {
    const dest = path.join(root, 'fetched');
    const r = await fslm(['model', 'fetch', trained.uri, dest, '--expect-version', trained.version], env);
    assert.equal(r.code, 0, r.stderr);
    const manifest = await readFile(path.join(dest, 'fslm.json'));
    assert.equal(createHash('sha256').update(manifest).digest('hex'), trained.version);
    const m = JSON.parse(manifest.toString()) as { stage: string; files: Record<string, string> };
    assert.equal(m.stage, 'final');
    assert.ok('onnx/model.onnx' in m.files);
    // The trainer's own verifier agrees with the fetched copy.
    const verify = await fslm(['trainer', 'verify', dest], env);
    assert.equal(verify.code, 0, verify.stderr);
  });

  test('fslm up serves a stack naming the s3:// version and a file:// artifact; the stage reports the trained version', async () => {
    const tiny = testModels('tiny')['tiny-onnx'];
    const stack = StackBuilder.fourRoles('uris4', 8, `file://${tiny}`);
    const file = new StackBuilder('uris4', `file://${tiny}`);
    for (const [i, name] of stack.stageNames.entries()) {
      const spec = (stack.toObject().spec as { stages: Array<Record<string, unknown>> }).stages[i];
      file.stage({ ...(spec as { name: string; template: string }), name, model: name === 'final' ? trained.uri : `file://${tiny}` });
    }
    const up = await startFslm(['up', '--stack', file.write(), '--no-setup', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], { env, readyEvent: 'up', timeoutMs: 300_000 });
    try {
      const stages = up.ready.stages as Array<{ name: string; version: string }>;
      assert.equal(stages.find((s) => s.name === 'final')?.version, trained.version, 'the final stage serves the trained version');
      assert.deepEqual(await readdir(path.join(root, 'cache')), [trained.version], 'fetched once, into a folder named by its version');
      const ask = await fslm(['ask', 'What is 3 plus 2?', '--router', String(up.ready.grpc), '--json'], env, 120_000);
      assert.equal(ask.code, 0, ask.stderr);
      const answer = JSON.parse(ask.stdout) as { stages: Array<{ stage: string; text: string }> };
      assert.deepEqual(answer.stages.map((s) => s.stage), stack.stageNames);
    } finally {
      await up.stop('SIGINT');
    }
  });

  test('fslm up refuses a tampered s3:// version before it starts anything', async () => {
    const uri = `s3://${s3.bucket}/runs/r2/final`;
    assert.equal((await fslm(['model', 'push', path.join(root, 'fetched'), uri], env)).code, 0);
    const tokenizer = Buffer.from(await readFile(path.join(root, 'fetched', 'tokenizer.json')));
    tokenizer[10] ^= 0x20;
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'runs/r2/final/tokenizer.json', Body: tokenizer }));
    const file = new StackBuilder('tampered', uri).stage({ name: 'only', template: '{input}' }).write();
    const r = await fslm(['up', '--stack', file, '--no-setup', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], { ...env, FSLM_MODEL_CACHE: path.join(root, 'cache2') }, 120_000);
    assert.equal(r.code, 2, 'refused like any stack whose models cannot be served');
    assert.match(r.stderr, /stage only: model "s3:\/\/fslm-models\/runs\/r2\/final": s3:\/\/fslm-models\/runs\/r2\/final\/tokenizer\.json: sha256 [0-9a-f]{64} does not match fslm\.json/);
    assert.doesNotMatch(r.stderr, /nats-server at/, 'nothing was started');
    assert.deepEqual(await readdir(path.join(root, 'cache2')).catch(() => []), [], 'nothing half-written in the cache');
  });
});

// The model store on s3:// URIs against a real S3-compatible server (SeaweedFS, built from the Go module proxy
// by scripts/go-tool), through `fslm model` with the standard AWS variables: round trip, versions never
// overwritten, tampered or extra objects refused, bad credentials refused, nothing left half-written.
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startS3Server, type S3Server } from '../../../test/support/seaweedfs.ts';
import { exists, fslmModel, makeArtifact, readTree } from './support.ts';

describe('fslm model on s3:// URIs (real SeaweedFS)', { timeout: 25 * 60_000 }, () => {
  let s3: S3Server;
  let root: string;
  let src: string;
  let version: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'fslm-store-s3-'));
    src = path.join(root, 'trained');
    version = createHash('sha256').update(await makeArtifact(src)).digest('hex');
    s3 = await startS3Server();
  });
  after(async () => {
    await s3?.stop();
    await rm(root, { recursive: true, force: true });
  });
  const keys = async (prefix: string) =>
    ((await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();

  test('push then fetch gives the same files; fslm.json is stored; pushing again is a no-op', async () => {
    const uri = `s3://${s3.bucket}/runs/r1/final`;
    const pushed = await fslmModel(['push', src, uri], s3.env);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(pushed.json?.version, version);
    assert.deepEqual(await keys('runs/r1/final/'), ['runs/r1/final/config.json', 'runs/r1/final/fslm.json', 'runs/r1/final/onnx/model.onnx', 'runs/r1/final/tokenizer.json']);
    const stored = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'runs/r1/final/fslm.json' }));
    assert.deepEqual(Buffer.from(await stored.Body!.transformToByteArray()), await readFile(path.join(src, 'fslm.json')));
    const dest = path.join(root, 'fetched');
    const fetched = await fslmModel(['fetch', `${uri}/`, dest, '--expect-version', version], s3.env);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.deepEqual(await readTree(dest), await readTree(src));
    assert.equal((await fslmModel(['version', uri], s3.env)).json?.version, version);
    const again = await fslmModel(['push', src, uri], s3.env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json?.alreadyThere, true);
  });

  test('another version to a stored URI is refused and the stored one is unchanged', async () => {
    const uri = `s3://${s3.bucket}/runs/r2/final`;
    assert.equal((await fslmModel(['push', src, uri], s3.env)).code, 0);
    const other = path.join(root, 'other');
    await makeArtifact(other, 'b');
    const refused = await fslmModel(['push', other, uri], s3.env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already holds another model version/);
    assert.equal((await fslmModel(['version', uri], s3.env)).json?.version, version);
  });

  test('a tampered object is refused: non-zero exit, the file named, no destination left', async () => {
    const uri = `s3://${s3.bucket}/runs/r3/final`;
    assert.equal((await fslmModel(['push', src, uri], s3.env)).code, 0);
    const bytes = await readFile(path.join(src, 'onnx/model.onnx'));
    bytes[12345] ^= 0x01;
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'runs/r3/final/onnx/model.onnx', Body: bytes }));
    const dest = path.join(root, 'tampered');
    const r = await fslmModel(['fetch', uri, dest], s3.env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /s3:\/\/fslm-models\/runs\/r3\/final\/onnx\/model\.onnx: sha256 [0-9a-f]{64} does not match fslm\.json/);
    assert.equal(await exists(dest), false);
  });

  test('an object under the prefix that fslm.json does not list is refused', async () => {
    const uri = `s3://${s3.bucket}/runs/r4/final`;
    assert.equal((await fslmModel(['push', src, uri], s3.env)).code, 0);
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'runs/r4/final/onnx/extra.onnx', Body: 'x' }));
    const r = await fslmModel(['fetch', uri, path.join(root, 'extra')], s3.env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /onnx\/extra\.onnx present but not listed in fslm\.json/);
    // A sibling prefix that merely starts with the same text is not part of the artifact.
    assert.equal((await fslmModel(['push', src, `s3://${s3.bucket}/runs/r4/fin`], s3.env)).code, 0);
    assert.equal((await fslmModel(['fetch', `s3://${s3.bucket}/runs/r4/fin`, path.join(root, 'fin')], s3.env)).code, 0);
  });

  test('a failed push leaves no object behind; a prefix with stray objects is refused', async () => {
    const tampered = path.join(root, 'tampered-local');
    await makeArtifact(tampered, 'c');
    const f = path.join(tampered, 'tokenizer.json');
    await import('node:fs/promises').then((fs) => fs.appendFile(f, ' '));
    const r = await fslmModel(['push', tampered, `s3://${s3.bucket}/runs/r5/final`], s3.env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tokenizer\.json: sha256 [0-9a-f]{64} does not match fslm\.json/);
    assert.deepEqual(await keys('runs/r5/'), []);
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'runs/r6/final/stray.bin', Body: 'x' }));
    const stray = await fslmModel(['push', src, `s3://${s3.bucket}/runs/r6/final`], s3.env);
    assert.equal(stray.code, 1);
    assert.match(stray.stderr, /already holds 1 object\(s\) but no complete artifact \(e\.g\. stray\.bin\)/);
  });

  test('wrong credentials, a missing bucket and a missing artifact are refused with clear messages', async () => {
    const bad = await fslmModel(['fetch', `s3://${s3.bucket}/runs/r1/final`, path.join(root, 'bad-creds')], { ...s3.env, AWS_SECRET_ACCESS_KEY: 'wrong' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId/);
    assert.equal(await exists(path.join(root, 'bad-creds')), false);
    const nobucket = await fslmModel(['fetch', 's3://no-such-bucket/x', path.join(root, 'nb')], s3.env);
    assert.equal(nobucket.code, 1);
    assert.match(nobucket.stderr, /s3:\/\/no-such-bucket\/x/);
    const none = await fslmModel(['fetch', `s3://${s3.bucket}/runs/none`, path.join(root, 'none')], s3.env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /s3:\/\/fslm-models\/runs\/none holds no fslm\.json: not a complete fslm artifact/);
  });
});

// The model store on file:// URIs, through the `fslm model` command as a user (or an init container) runs
// it: round trip, versions never overwritten, and every kind of tampering refused with nothing left behind.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exists, fslmModel, makeArtifact, readTree } from './support.ts';

describe('fslm model on file:// URIs', { timeout: 300_000 }, () => {
  let root: string;
  let src: string;
  let manifest: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'fslm-store-file-'));
    src = path.join(root, 'trained');
    manifest = await makeArtifact(src);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const version = () => createHash('sha256').update(manifest).digest('hex');

  test('push then fetch gives the same files, and the version is the sha256 of fslm.json', async () => {
    const uri = `file://${root}/store/final/v1`;
    const pushed = await fslmModel(['push', src, uri]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(pushed.json?.version, version());
    assert.equal(pushed.json?.files, 3);
    const dest = path.join(root, 'fetched');
    const fetched = await fslmModel(['fetch', uri, dest, '--expect-version', version()]);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal(fetched.json?.version, version());
    assert.deepEqual(await readTree(dest), await readTree(src));
    const v = await fslmModel(['version', uri]);
    assert.equal(v.json?.version, version());
    // No temporary folder is left beside the destination.
    assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.')), []);
  });

  test('pushing the same version again is a no-op; another version to the same URI is refused', async () => {
    const uri = `file://${root}/store/final/v2`;
    assert.equal((await fslmModel(['push', src, uri])).code, 0);
    const again = await fslmModel(['push', src, uri]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json?.alreadyThere, true);
    const other = path.join(root, 'other');
    await makeArtifact(other, 'b');
    const refused = await fslmModel(['push', other, uri]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already holds another model version .*never overwritten/);
    assert.deepEqual(await readTree(path.join(root, 'store/final/v2')), await readTree(src));
  });

  test('a tampered stored file is refused: non-zero exit, the file named, nothing left in the destination', async () => {
    const stored = path.join(root, 'store/final/v3');
    assert.equal((await fslmModel(['push', src, `file://${stored}`])).code, 0);
    const onnx = path.join(stored, 'onnx/model.onnx');
    const bytes = await readFile(onnx);
    bytes[1000] ^= 0xff;
    await writeFile(onnx, bytes);
    const dest = path.join(root, 'tampered-new');
    const r = await fslmModel(['fetch', `file://${stored}`, dest]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /fslm model fetch: .*onnx\/model\.onnx: sha256 [0-9a-f]{64} does not match fslm\.json \([0-9a-f]{64}\); refusing the artifact/);
    assert.equal(await exists(dest), false);
    assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.')), []);
    // Into an existing empty directory (a volume's mount point): it stays empty.
    const mount = path.join(root, 'mount');
    await mkdir(mount);
    const message = path.join(root, 'tampered-termination-log');
    const r2 = await fslmModel(['fetch', `file://${stored}`, mount, '--termination-message', message]);
    assert.equal(r2.code, 1);
    assert.deepEqual(await readdir(mount), []);
    assert.equal(await readFile(message, 'utf8'), '', 'a refused fetch leaves the termination message empty (the kubelet then reports its log)');
    // Pushing a tampered local artifact is refused too, and the destination never appears.
    const r3 = await fslmModel(['push', stored, `file://${root}/store/final/from-tampered`]);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /onnx\/model\.onnx: sha256 [0-9a-f]{64} does not match fslm\.json/);
    assert.equal(await exists(path.join(root, 'store/final/from-tampered')), false);
  });

  test('--termination-message writes the fetched version and URI as JSON (what the pod status reports)', async () => {
    const uri = `file://${root}/store/final/v1`;
    const message = path.join(root, 'termination-log');
    await writeFile(message, '');
    const r = await fslmModel(['fetch', uri, path.join(root, 'with-message'), '--termination-message', message]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(await readFile(message, 'utf8')), { version: version(), uri });
    const unwritable = await fslmModel(['fetch', uri, path.join(root, 'no-message'), '--termination-message', path.join(root, 'no/such/dir/log')]);
    assert.equal(unwritable.code, 1);
    assert.match(unwritable.stderr, /cannot write the termination message to .*no\/such\/dir\/log: ENOENT/);
    assert.equal(await exists(path.join(root, 'no-message')), false, 'checked before anything is fetched');
  });

  test('fetching into an existing empty directory works (a volume mount point)', async () => {
    const uri = `file://${root}/store/final/v1`;
    const mount = path.join(root, 'mount-ok');
    await mkdir(mount);
    const r = await fslmModel(['fetch', uri, mount]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readTree(mount), await readTree(src));
  });

  test('missing, unlisted and escaping files, a wrong version and a local tampered push are all refused before anything is written', async () => {
    const cases: Array<{ name: string; change: (dir: string) => Promise<void>; error: RegExp }> = [
      { name: 'missing', change: (d) => rm(path.join(d, 'tokenizer.json')), error: /tokenizer\.json listed in fslm\.json but missing/ },
      { name: 'unlisted', change: (d) => writeFile(path.join(d, 'onnx/model.onnx_data'), 'x'), error: /onnx\/model\.onnx_data present but not listed in fslm\.json/ },
      {
        name: 'escaping',
        change: async (d) => {
          const m = JSON.parse(await readFile(path.join(d, 'fslm.json'), 'utf8'));
          m.files['../escape.json'] = m.files['config.json'];
          await writeFile(path.join(d, 'fslm.json'), JSON.stringify(m));
        },
        error: /"\.\.\/escape\.json" is not a relative path inside the artifact/,
      },
      { name: 'not-json', change: (d) => writeFile(path.join(d, 'fslm.json'), '{'), error: /fslm\.json is not valid JSON/ },
    ];
    for (const c of cases) {
      const dir = path.join(root, `case-${c.name}`);
      await makeArtifact(dir, c.name);
      await c.change(dir);
      const dest = path.join(root, `case-${c.name}-out`);
      const fetched = await fslmModel(['fetch', `file://${dir}`, dest]);
      assert.equal(fetched.code, 1, c.name);
      assert.match(fetched.stderr, c.error, c.name);
      assert.equal(await exists(dest), false, c.name);
      const pushed = await fslmModel(['push', dir, `file://${dest}`]);
      assert.equal(pushed.code, 1, c.name);
      assert.equal(await exists(dest), false, c.name);
    }
    const wrong = await fslmModel(['fetch', `file://${src}`, path.join(root, 'wrong-version'), '--expect-version', '0'.repeat(64)]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /fslm\.json has sha256 [0-9a-f]{64}, expected version 0{64}; refusing the artifact/);
    assert.equal(await exists(path.join(root, 'wrong-version')), false);
  });

  test('bad input is refused with exit 2 and a precise message; a non-empty destination is left alone', async () => {
    const bad = await fslmModel(['fetch', 'gs://bucket/x', path.join(root, 'x')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unsupported scheme gs:\/\/ in gs:\/\/bucket\/x; use file:\/\/\/absolute\/dir or s3:\/\/bucket\/prefix/);
    const rel = await fslmModel(['push', src, 'store/x']);
    assert.equal(rel.code, 2);
    assert.match(rel.stderr, /"store\/x" is not a URI/);
    const host = await fslmModel(['fetch', 'file://host/x', path.join(root, 'x')]);
    assert.equal(host.code, 2);
    assert.match(host.stderr, /file URI with a host/);
    const bucket = await fslmModel(['push', src, 's3://Bad_Bucket/x']);
    assert.equal(bucket.code, 2);
    assert.match(bucket.stderr, /"Bad_Bucket" is not a valid S3 bucket name/);
    const version = await fslmModel(['fetch', `file://${src}`, path.join(root, 'x'), '--expect-version', 'abc']);
    assert.equal(version.code, 2);
    assert.match(version.stderr, /option '--expect-version <sha256>' argument 'abc' is invalid. Expected a lowercase hex sha256/);
    const usage = await fslmModel(['fetch', `file://${src}`]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /missing required argument 'dir'/);
    const busy = path.join(root, 'busy');
    await mkdir(busy);
    await writeFile(path.join(busy, 'keep.txt'), 'mine');
    const r = await fslmModel(['fetch', `file://${src}`, busy]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already exists and is not empty/);
    assert.deepEqual(await readdir(busy), ['keep.txt']);
    const none = await fslmModel(['fetch', `file://${root}/nowhere`, path.join(root, 'x')]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /holds no fslm\.json: not a complete fslm artifact/);
  });
});

// `fslm distill` and `fslm trainer` run the real Python trainer from this checkout, even with no
// PYTHONPATH in the caller's environment, and pass its exit codes through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, testModels } from '../../../test/support/models.ts';

const run = promisify(execFile);
const { PYTHONPATH: _ignored, ...callerEnv } = process.env;

async function fslm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), ...args], { env: callerEnv, cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test('fslm trainer verify checks a real artifact, and refuses a directory that is not one with exit 2', { timeout: 120_000 }, async () => {
  const artifact = testModels('tiny')['tiny-onnx'];
  const ok = await fslm(['trainer', 'verify', artifact]);
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await fslm(['trainer', 'verify', REPO_ROOT]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no fslm\.json/);
});

test('fslm distill is the trainer\'s distill: bad input exits 2 naming what is wrong', { timeout: 120_000 }, async () => {
  const res = await fslm(['distill', '--data', path.join(REPO_ROOT, 'missing.jsonl'), '--stack', path.join(REPO_ROOT, 'stacks/default.yaml'),
    '--out', path.join(REPO_ROOT, '.fslm', 'distill-cli-test'), '--teacher', 'http://127.0.0.1:9/v1']);
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /missing\.jsonl/);
});

// `fslm distill` and `fslm trainer` run the real Python trainer from this checkout, even with no
// PYTHONPATH in the caller's environment, and pass its exit codes through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT, testModels } from '../../../test/support/models.ts';
import { fslm as runFslm } from '../../../test/controller/support/local-run.ts';

// No PYTHONPATH from the caller: the command finds the trainer's sources itself.
const fslm = (args: string[]) => runFslm(args, { env: { PYTHONPATH: '' } });

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

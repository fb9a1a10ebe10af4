// scripts/models builds what it is asked for and nothing else, and `fslm up` asks only for the models its stack
// names: a stack of the tiny model never waits for the trained default stack to be merged and exported
// (minutes per stage on a fresh machine). Runs the real script on the real model cache (the tiny models
// are built first, so every build here is a cache hit).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { StackBuilder } from '../../../test/stack/support/stack-builder.ts';
import { testModels } from '../../../test/support/models.ts';
import { REPO_ROOT, runFslm } from './support/run-fslm.ts';

const SCRIPT = path.join(REPO_ROOT, 'scripts/models');
const DEFAULT_STAGES = ['understand', 'keywords', 'intermediate', 'final'];

/** scripts/models ARGS to its end (bounded): exit code, the JSON of its last stdout line (if any) and its log. */
function models(args: string[]): Promise<{ code: number | null; json?: Record<string, string>; stderr: string }> {
  return new Promise((resolve) => {
    execFile(SCRIPT, args, { cwd: REPO_ROOT, timeout: 240_000, killSignal: 'SIGKILL', maxBuffer: 1 << 22 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      const last = stdout.trim().split('\n').pop();
      resolve({ code, json: code === 0 && last ? (JSON.parse(last) as Record<string, string>) : undefined, stderr });
    });
  });
}

/** The names whose build step ran (built or found cached), from the script's `[models] NAME: ...` lines. */
const stepsIn = (log: string) => [...log.matchAll(/^\[models\] ([\w.-]+): (?:cached|building)$/gm)].map((m) => m[1]);

describe('models are built only when asked for', { timeout: 600_000 }, () => {
  test('--list names every model with its directory and builds nothing', async () => {
    const tiny = testModels('tiny');
    const res = await models(['--list']);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(stepsIn(res.stderr), [], 'no build step ran');
    for (const name of ['smollm2-135m', 'tiny', 'tiny-onnx'] as const) assert.equal(res.json?.[name], tiny[name], name);
    assert.equal(res.json?.['smollm2-135m-onnx'], path.join(path.dirname(tiny['tiny-onnx']), 'smollm2-135m-onnx'));
    for (const stage of DEFAULT_STAGES) {
      // A default stage's directory carries its adapter's content hash.
      assert.match(res.json?.[`default-${stage}-onnx`] ?? '', new RegExp(`/default-${stage}-onnx\\.[0-9a-f]{12}$`), stage);
    }
  });

  test('named models bring what they are built from and nothing else', async () => {
    const tiny = testModels('tiny');
    const res = await models(['tiny-onnx']);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(stepsIn(res.stderr), ['smollm2-135m', 'tiny', 'tiny-onnx']);
    assert.deepEqual(res.json, { 'smollm2-135m': tiny['smollm2-135m'], tiny: tiny.tiny, 'tiny-onnx': tiny['tiny-onnx'] });
  });

  test('an unknown name, or names with --only, are refused with exit 2 before any work', async () => {
    const unknown = await models(['tiny-onnx', 'tiny-onxx']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no model named 'tiny-onxx'; it builds: .*\btiny-onnx\b.*/);
    assert.deepEqual(stepsIn(unknown.stderr), []);
    const mixed = await models(['--only', 'tiny', 'tiny-onnx']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /--only and model names do not go together/);
    const list = await models(['--list', 'tiny']);
    assert.equal(list.code, 2);
    assert.match(list.stderr, /^usage: scripts\/models/m);
  });

  test('fslm up asks scripts/models for its stack\'s model names only', async () => {
    testModels('tiny');
    // Refused after its models are resolved (the PyTorch base does not serve), so nothing is started.
    const stack = new StackBuilder('named-models', 'smollm2-135m')
      .stage({ name: 'first', template: '{input}', params: { maxNewTokens: 4, temperature: 0 } })
      .stage({ name: 'second', template: '{stages.first}', params: { maxNewTokens: 4, temperature: 0 }, model: 'tiny-onnx' })
      .write();
    const res = await runFslm(['up', '--stack', stack, '--no-setup'], { timeoutMs: 300_000 });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /\[up\] model artifacts: scripts\/models smollm2-135m tiny-onnx \(/);
    assert.deepEqual(stepsIn(res.stderr), ['smollm2-135m', 'tiny', 'tiny-onnx']);
    assert.match(res.stderr, /model names that serve: [^;]*\bdefault-final-onnx\b/, 'unbuilt ONNX models are still suggested');
  });
});

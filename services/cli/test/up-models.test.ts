// `fslm up` checks every model of the stack with the stage's own artifact checker before it starts
// anything: a model that cannot be served (the PyTorch base that scripts/models also builds, a
// directory without fslm.json, a missing directory) is refused with exit 2, every bad stage named at
// once, and the names it suggests are only those that serve. Nothing is started: no nats-server, no stage.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { StackBuilder } from '../../../test/stack/support/stack-builder.ts';
import { testModels } from '../../../test/support/models.ts';
import { runFslm } from './support/run-fslm.ts';

const p = { maxNewTokens: 4, temperature: 0 };

/** What `fslm up` logs once it starts processes; none of it may appear when a stack is refused. */
function assertNothingStarted(stderr: string): void {
  assert.doesNotMatch(stderr, /nats-server at|starting \d+ stage process/, 'no process was started');
}

describe('fslm up refuses a stack whose models cannot be served, before starting anything', { timeout: 600_000 }, () => {
  test('a scripts/models name of a PyTorch base (smollm2-135m) is refused, suggesting only the names that serve', async () => {
    const models = testModels('tiny');
    const stack = new StackBuilder('pytorch', 'smollm2-135m')
      .stage({ name: 'first', template: '{input}', params: p })
      .stage({ name: 'second', template: '{stages.first}', params: p, model: 'tiny-onnx' })
      .write();
    const res = await runFslm(['up', '--stack', stack, '--no-setup', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], { timeoutMs: 300_000 });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, new RegExp(`stage first: model "smollm2-135m" \\(${models['smollm2-135m']}\\) cannot be served \\(no fslm\\.json: not an ONNX artifact`));
    assert.doesNotMatch(res.stderr, /stage second/, 'the servable stage is not reported');
    const suggested = /model names that serve: ([^;]+);/.exec(res.stderr)?.[1].split(', ');
    assert.ok(suggested, res.stderr);
    assert.ok(suggested.includes('tiny-onnx'), `suggests the ONNX models: ${suggested}`);
    for (const name of suggested) assert.match(name, /-onnx$/, `suggests only models that serve, not ${name}`);
    assertNothingStarted(res.stderr);
  });

  test('a directory without fslm.json, a missing directory and an unknown name are all reported at once', async () => {
    const models = testModels('tiny');
    const stack = new StackBuilder('broken', models.tiny)
      .stage({ name: 'base', template: '{input}', params: p })
      .stage({ name: 'missing', template: '{input}', params: p, model: './no-such-model' })
      .stage({ name: 'typo', template: '{input}', params: p, model: 'tiny-onxx' })
      .write();
    const res = await runFslm(['up', '--stack', stack, '--no-setup'], { timeoutMs: 300_000 });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /stage base: model ".*\/tiny" \(.*\/tiny\) cannot be served \(no fslm\.json/);
    assert.match(res.stderr, /stage missing: model "\.\/no-such-model": no such directory .*\/no-such-model/);
    assert.match(res.stderr, /stage typo: model "tiny-onxx" is neither a directory \(relative to .*\) nor a model name/);
    assertNothingStarted(res.stderr);
  });

  test('a precision the artifact has no file for is refused before anything starts', async () => {
    const models = testModels('tiny');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-no-int4-'));
    try {
      cpSync(models['tiny-onnx'], dir, { recursive: true });
      const manifest = JSON.parse(readFileSync(path.join(dir, 'fslm.json'), 'utf8'));
      delete manifest.onnx.int4;
      delete manifest.files['onnx/model_q4.onnx'];
      rmSync(path.join(dir, 'onnx/model_q4.onnx'));
      writeFileSync(path.join(dir, 'fslm.json'), JSON.stringify(manifest));
      const stack = new StackBuilder('no-int4', dir)
        .stage({ name: 'fast', template: '{input}', params: p, precision: 'int4' })
        .stage({ name: 'exact', template: '{stages.fast}', params: p })
        .write();
      const res = await runFslm(['up', '--stack', stack, '--no-setup'], { timeoutMs: 300_000 });
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, /stage fast: model ".*" \(.*\) cannot be served: .* has no int4 model \(fslm\.json onnx\.int4\); it has: fp32, int8/);
      assert.doesNotMatch(res.stderr, /stage exact/, 'the same artifact serves fp32');
      assertNothingStarted(res.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseStatusConfig, parseTrainConfig } from '../src/local-config.ts';

test('train takes --local RUN.yaml and resolves paths, with defaults from the environment', { timeout: 30_000 }, () => {
  const c = parseTrainConfig(['--local', 'run.yaml', '--parallel', '2', '--replace', '--kill-grace', '3s'], { FSLM_STATE_DIR: '/st', FSLM_PY: '/py' });
  assert.ok(!('help' in c));
  assert.equal(c.file, path.resolve('run.yaml'));
  assert.equal(c.stateDir, '/st');
  assert.equal(c.parallel, 2);
  assert.equal(c.replace, true);
  assert.equal(c.killGraceMs, 3000);
  assert.equal(c.python(), '/py');
  const d = parseTrainConfig(['--local', 'run.yaml'], { FSLM_PY: '/py' });
  assert.ok(!('help' in d));
  assert.equal(d.stateDir, path.resolve('.fslm'));
  assert.equal(d.parallel, Infinity);
  assert.equal(d.baseModel, undefined);
  const t = parseTrainConfig(['--local', 'run.yaml'], { FSLM_TRAIN_BASE_MODEL: 'tiny' });
  assert.ok(!('help' in t));
  assert.equal(t.baseModel, 'tiny', 'FSLM_TRAIN_BASE_MODEL replaces every stage\'s base model');
});

test('bad train flags are one InvalidArgument naming each', { timeout: 30_000 }, () => {
  assert.throws(() => parseTrainConfig(['run.yaml'], {}), /--local RUN.yaml is required/);
  assert.throws(() => parseTrainConfig(['--local', 'r.yaml', '--parallel', '0', '--kill-grace', 'soon'], {}),
    /--parallel: "0" is not a positive integer; --kill-grace: "soon" is not a duration/);
  assert.throws(() => parseTrainConfig(['--local', 'r.yaml', '--nope'], {}), /fslm train: Unknown option '--nope'/);
  assert.deepEqual(parseTrainConfig(['--help'], {}), { help: true });
});

test('status takes an optional run name, --json and --state-dir', { timeout: 30_000 }, () => {
  assert.deepEqual(parseStatusConfig(['demo', '--json', '--state-dir', '/st'], {}), { run: 'demo', stateDir: '/st', json: true });
  assert.deepEqual(parseStatusConfig([], { FSLM_STATE_DIR: '/x' }), { run: undefined, stateDir: '/x', json: false });
  assert.throws(() => parseStatusConfig(['a', 'b'], {}), /unexpected argument b/);
});

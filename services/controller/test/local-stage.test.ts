import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveSpec } from '../src/defaults.ts';
import { TRAINER_SRC, attemptCommand, attemptEnv, localizeSpec } from '../src/local-stage.ts';
import { datasetUri, resolveBaseModels } from '../src/local-models.ts';
import { LocalRunStore } from '../src/local-store.ts';
import { checkRunStack } from '../src/local-stack.ts';
import { trainerEnv } from '../src/trainer-env.ts';
import { writeFileSync } from 'node:fs';
import { RunBuilder, stage } from './support/builders.ts';

const store = new LocalRunStore('/state');

function local(baseModels = new Map<string, string>()) {
  const run = new RunBuilder('demo', [stage('a', [], { dataset: 'data/a.jsonl', env: [{ name: 'HF_HOME', value: '/cache' }, { name: 'FSLM_OUTPUT', value: 'file:///spoofed' }] }),
    stage('b', ['a'], { dataset: 's3://bucket/b.jsonl', command: ['python', 'train.py'], args: ['--fast'] })]).build();
  const spec = localizeSpec(resolveSpec(run.spec, run.metadata.name), run.metadata.name, { store, baseDir: '/runs', baseModels });
  return { run, spec };
}

test('each stage writes its model under the state directory; relative datasets resolve against the run file', { timeout: 30_000 }, () => {
  const { spec } = local();
  assert.equal(spec.stages[0].output, 'file:///state/runs/demo/a/model');
  assert.equal(spec.stages[0].dataset, 'file:///runs/data/a.jsonl');
  assert.equal(spec.stages[1].dataset, 's3://bucket/b.jsonl');
  assert.equal(datasetUri('/abs/x.jsonl', '/runs'), 'file:///abs/x.jsonl');
  assert.equal(datasetUri('file:///abs/x.jsonl', '/runs'), 'file:///abs/x.jsonl');
});

test('fslm-trainer runs as the trainer venv\'s python -m fslm_trainer; other commands run as written', { timeout: 30_000 }, () => {
  const { spec } = local();
  assert.deepEqual(attemptCommand(spec.stages[0], '/venv/bin/python'), ['/venv/bin/python', '-m', 'fslm_trainer', 'stage-job']);
  assert.deepEqual(attemptCommand(spec.stages[1], '/venv/bin/python'), ['python', 'train.py', '--fast']);
});

test('the attempt environment is the trainer contract, which stage env and the parent cannot override', { timeout: 30_000 }, () => {
  const { run, spec } = local(new Map([['EleutherAI/pythia-160m', '/models/pythia']]));
  const env = attemptEnv(run, spec.stages[0], { PATH: '/bin', FSLM_STAGE: 'parent' });
  assert.equal(env.PATH, '/bin');
  assert.equal(env.HF_HOME, '/cache');
  assert.equal(env.FSLM_STAGE, 'a');
  assert.equal(env.FSLM_RUN, 'demo');
  assert.equal(env.FSLM_NAMESPACE, 'ns');
  assert.equal(env.FSLM_OUTPUT, 'file:///state/runs/demo/a/model');
  assert.equal(env.FSLM_BASE_MODEL, '/models/pythia');
  assert.equal(env.FSLM_LORA_TARGETS, 'all-linear');
  assert.equal(env.FSLM_MAX_STEPS, '1000');
  assert.match(env.TRACEPARENT!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  // The trainer runs from this checkout's sources, ahead of whatever PYTHONPATH the user has.
  assert.equal(attemptEnv(run, spec.stages[0], { PYTHONPATH: `/mine${path.delimiter}${TRAINER_SRC}` }).PYTHONPATH, `${TRAINER_SRC}${path.delimiter}/mine`);
  assert.ok(existsSync(path.join(TRAINER_SRC, 'fslm_trainer', '__main__.py')));
  assert.equal(attemptEnv(run, spec.stages[1], {}).PYTHONPATH, undefined, 'a custom command gets the environment as it is');
});

test('base models: local directories win, tiny comes from scripts/models, known bases and hub ids pass through', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fslm-bases-'));
  mkdirSync(path.join(dir, 'my-model'));
  let builds = 0;
  const models = async () => { builds++; return { tiny: '/cache/tiny', 'smollm2-135m': '/cache/smol' }; };
  const out = await resolveBaseModels(['my-model', `file://${dir}/my-model`, 'tiny', 'tiny', 'smollm2-135m', 'EleutherAI/pythia-160m', 'file:///nowhere'], dir, models);
  assert.deepEqual(Object.fromEntries(out), {
    'my-model': path.join(dir, 'my-model'),
    [`file://${dir}/my-model`]: path.join(dir, 'my-model'),
    tiny: '/cache/tiny',
    'smollm2-135m': 'smollm2-135m',
    'EleutherAI/pythia-160m': 'EleutherAI/pythia-160m',
    'file:///nowhere': '/nowhere',
  });
  assert.equal(builds, 1);
  assert.equal((await resolveBaseModels(['smollm2-135m'], dir, models)).size, 1);
  assert.equal(builds, 1, 'scripts/models is not asked when no name needs it');
});

test('spec.stack resolves against the run file and reaches each stage as FSLM_STACK, as on a cluster', { timeout: 30_000 }, () => {
  const run = new RunBuilder('demo', [stage('a', [], { dataset: 'a.jsonl' })]).spec({ stack: 'stacks/s.yaml' }).build();
  const spec = localizeSpec(resolveSpec(run.spec, run.metadata.name), run.metadata.name, { store, baseDir: '/runs', baseModels: new Map() });
  assert.equal(spec.stages[0].stack, 'file:///runs/stacks/s.yaml');
  const env = attemptEnv(run, spec.stages[0], { FSLM_STACK: 'file:///parent.yaml' });
  assert.equal(env.FSLM_STACK, 'file:///runs/stacks/s.yaml');
  assert.equal(env.FSLM_STAGE, 'a');
  const contract = trainerEnv({ run: 'demo', namespace: 'ns', stage: spec.stages[0], traceparent: 't' });
  assert.deepEqual(contract.filter((e) => e.name === 'FSLM_STACK'), [{ name: 'FSLM_STACK', value: 'file:///runs/stacks/s.yaml' }]);
  const plain = localizeSpec(resolveSpec({ ...run.spec, stack: undefined }, 'demo'), 'demo', { store, baseDir: '/runs', baseModels: new Map() });
  assert.equal(attemptEnv(run, plain.stages[0], {}).FSLM_STACK, undefined, 'no stack: not part of the contract');
});

test('a run whose stack lacks one of its stages, or is no stack, is refused naming spec.stack', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fslm-run-stack-'));
  writeFileSync(path.join(dir, 's.yaml'), `apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: { name: two }
spec:
  stages:
    - { name: first, model: m, template: "{input}" }
    - { name: final, model: m, template: "{stages.first}" }
`);
  writeFileSync(path.join(dir, 'bad.yaml'), 'apiVersion: fslm.dev/v1alpha1\nkind: Stack\nmetadata: { name: bad }\nspec: { stages: [] }\n');
  const spec = (names: string[], ref: string) => new RunBuilder('r', names.map((n) => stage(n))).spec({ stack: ref }).build().spec;
  await checkRunStack(spec(['first', 'final'], 's.yaml'), dir);
  await checkRunStack(spec(['final'], `file://${dir}/s.yaml`), '/elsewhere');
  await checkRunStack({ stages: [stage('x')] }, dir);
  await assert.rejects(checkRunStack(spec(['first', 'answer'], 's.yaml'), dir),
    (e: Error) => /spec\.stack: stack two \(.*s\.yaml\) has no stage "answer"; its stages are first, final/.test(e.message));
  await assert.rejects(checkRunStack(spec(['first'], 'bad.yaml'), dir), /spec\.stack: .*invalid stack definition[\s\S]*spec\.stages: must have at least 1 item/);
  await assert.rejects(checkRunStack(spec(['first'], 'missing.yaml'), dir), /spec\.stack: /);
  await assert.rejects(checkRunStack(spec(['first'], 's3://bucket/s.yaml'), dir), /spec\.stack: s3:\/\/bucket\/s\.yaml is not a local file/);
});

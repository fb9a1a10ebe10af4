// The shipped default stack and the run that trains it hold together: examples/default-training/run.yaml
// is a valid StackTrainingRun on stacks/untuned.yaml's stages, and each adapter in
// stacks/adapters/default/<stage>/ is what that run trains from the checked-in data: its training.json
// names the data file's sha256, the run's seed, steps and base, and the version of the files beside it
// (the version a stage serving the merged model reports). Reads files only; the training itself is
// examples/default-training/README.md's command (an hour here), which no test runs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadStackFile } from '../../services/router/src/index.ts';
import { loadRunFile } from '../../services/controller/src/run-file.ts';
import { checkRunStack } from '../../services/controller/src/local-stack.ts';
import { REPO_ROOT } from '../support/models.ts';

const EXAMPLE = path.join(REPO_ROOT, 'examples/default-training');
const ADAPTERS = path.join(REPO_ROOT, 'stacks/adapters/default');
const STAGES = ['understand', 'keywords', 'intermediate', 'final'];
/** LoRA rank 8 on every linear layer of SmolLM2-135M, float16: 4.9 MB; "a few MB" is the promise. */
const MAX_ADAPTER_BYTES = 6_000_000;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
/** The adapter version: sha256 of `sha256sum adapter_config.json adapter_model.safetensors`'s output. */
const adapterVersion = (dir: string) => createHash('sha256').update(['adapter_config.json', 'adapter_model.safetensors']
  .map((name) => `${sha256(path.join(dir, name))}  ${name}\n`).join('')).digest('hex');

test('the training run is valid and trains every stage of the untuned stack, one seed each', { timeout: 30_000 }, async () => {
  const run = await loadRunFile(path.join(EXAMPLE, 'run.yaml'));
  await checkRunStack(run.spec, EXAMPLE);
  assert.equal(path.resolve(EXAMPLE, run.spec.stack!), path.join(REPO_ROOT, 'stacks/untuned.yaml'));
  const untuned = await loadStackFile(path.join(REPO_ROOT, 'stacks/untuned.yaml'));
  assert.deepEqual(run.spec.stages.map((s) => s.name), untuned.stages.map((s) => s.name));
  assert.deepEqual(run.spec.stages.map((s) => s.name), STAGES);
  for (const s of run.spec.stages) {
    assert.equal(s.dataset, `data/${s.name}.jsonl`);
    assert.match(s.env?.find((e) => e.name === 'FSLM_SEED')?.value ?? '', /^\d+$/, `${s.name}: a fixed seed`);
  }
});

test('each shipped adapter is what the run trains from the checked-in data, and is small', { timeout: 30_000 }, async () => {
  const run = await loadRunFile(path.join(EXAMPLE, 'run.yaml'));
  for (const stage of run.spec.stages) {
    const dir = path.join(ADAPTERS, stage.name);
    const record = JSON.parse(readFileSync(path.join(dir, 'training.json'), 'utf8'));
    assert.equal(record.version, adapterVersion(dir), `${stage.name}: training.json's version is the files'`);
    assert.equal(record.stage, stage.name);
    assert.equal(record.training_run, run.metadata.name);
    assert.equal(record.base.name, stage.baseModel);
    const training = record.adapter.training;
    assert.equal(training.data_sha256, sha256(path.join(EXAMPLE, stage.dataset)), `${stage.name}: trained on the checked-in data`);
    assert.equal(String(training.seed), stage.env!.find((e) => e.name === 'FSLM_SEED')!.value);
    assert.equal(training.max_steps, stage.maxSteps);
    assert.equal(record.metrics.steps, stage.maxSteps);
    assert.deepEqual([record.adapter.rank, record.adapter.alpha, record.adapter.target_spec], [stage.lora!.rank, stage.lora!.alpha, 'all-linear']);
    assert.ok(record.metrics.eval_loss < record.metrics.eval_loss_initial, `${stage.name}: the held-out loss fell`);
    assert.ok(statSync(path.join(dir, 'adapter_model.safetensors')).size < MAX_ADAPTER_BYTES);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { loadRunFile, validateRunObject } from '../src/run-file.ts';
import { FslmError } from '../../shared/errors.ts';

const example = parse(readFileSync(new URL('../../../k8s/examples/stacktrainingrun.yaml', import.meta.url), 'utf8'));
const withSpec = (patch: Record<string, unknown>) => ({ ...structuredClone(example), spec: { ...structuredClone(example.spec), ...patch } });
const problems = (obj: unknown) => validateRunObject(obj).map((p) => `${p.field}: ${p.message}`);

test('the example run is valid', { timeout: 30_000 }, () => {
  assert.deepEqual(problems(example), []);
});

test('a stage without an image is valid locally, where no image is used', { timeout: 30_000 }, () => {
  const { template: _t, ...spec } = example.spec;
  assert.deepEqual(problems({ ...example, spec }), []);
});

test('schema rules from the CRD apply, each with its field path', { timeout: 30_000 }, () => {
  const stages = structuredClone(example.spec.stages);
  stages[1].lora.rank = 0;
  stages[2].dependOn = ['x'];
  delete stages[3].dataset;
  assert.deepEqual(problems(withSpec({ stages, suspend: 'yes' })), [
    'spec.stages[1].lora.rank: must be at least 1, got 0',
    'spec.stages[2].dependOn: unknown field',
    'spec.stages[3].dataset: required field is missing',
    'spec.suspend: must be a boolean, got string "yes"',
  ]);
});

test('the CRD CEL rules are mirrored: dependsOn names stages, no cycles of any length, backoff bounds, rollout stage', { timeout: 30_000 }, () => {
  const stages = structuredClone(example.spec.stages);
  stages[0].dependsOn = ['final'];
  stages[2].dependsOn = ['nope'];
  const out = problems(withSpec({ stages, retry: { backoffSeconds: 60, maxBackoffSeconds: 5 }, rollout: { stage: 'ghost', target: { stack: 'd' } } }));
  assert.deepEqual(out, [
    'spec.stages[2].dependsOn[0]: stage "answer" depends on unknown stage "nope"',
    'spec.stages: dependsOn has a cycle: understand -> final -> understand',
    'spec.retry.maxBackoffSeconds: maxBackoffSeconds must be at least backoffSeconds',
    'spec.rollout.stage: spec.rollout.stage must name a stage in spec.stages',
  ]);
});

test('apiVersion, kind and metadata.name are checked', { timeout: 30_000 }, () => {
  assert.deepEqual(problems({ ...example, apiVersion: 'v1', kind: 'Job', metadata: { name: 'Bad_Name' } }), [
    'apiVersion: must be fslm.dev/v1alpha1, got "v1"',
    'kind: must be StackTrainingRun, got "Job"',
    `metadata.name: "Bad_Name" must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.'; at most 253 characters)`,
  ]);
  assert.deepEqual(problems([1, 2]), ['(root): must be a YAML mapping (a StackTrainingRun object)']);
});

test('loadRunFile returns the run with a default namespace, and throws InvalidArgument listing every problem', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fslm-run-file-'));
  const good = path.join(dir, 'good.yaml');
  writeFileSync(good, readFileSync(new URL('../../../k8s/examples/stacktrainingrun.yaml', import.meta.url)));
  const run = await loadRunFile(good);
  assert.equal(run.metadata.name, 'pythia-4x160m');
  assert.equal(run.metadata.namespace, 'default');
  assert.equal(run.spec.stages.length, 4);

  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, 'apiVersion: fslm.dev/v1alpha1\nkind: StackTrainingRun\nmetadata: {name: x}\nspec: {stages: []}\n');
  await assert.rejects(loadRunFile(bad), (e: FslmError) => e.code === 'INVALID_ARGUMENT' && /bad\.yaml is not a valid StackTrainingRun:\n  spec\.stages: must have at least 1 item/.test(e.message));
  writeFileSync(bad, 'a: [1\n');
  await assert.rejects(loadRunFile(bad), /YAML syntax error/);
  await assert.rejects(loadRunFile(path.join(dir, 'missing.yaml')), /cannot read/);
});

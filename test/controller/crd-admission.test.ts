// The StackTrainingRun CRD on a real API server: it installs, applies the example with its defaults,
// and rejects invalid runs at admission with a clear message. The file starts its own control plane,
// and each test applies what it reads, so any test runs alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { K8S_BEFORE_TIMEOUT_MS, SKIP_K8S, TestEnv, installFslm } from './support/testenv.ts';

let env: TestEnv;
before(async () => {
  if (SKIP_K8S) return;
  env = await TestEnv.start('crd');
  await installFslm(env);
}, { timeout: K8S_BEFORE_TIMEOUT_MS });
after(async () => env?.stop(), { timeout: 120_000 });
const K8S = { skip: SKIP_K8S, timeout: 120_000 };

const run = (stages: string, spec = 'template: {image: trainer:1}') => `apiVersion: fslm.dev/v1alpha1
kind: StackTrainingRun
metadata: {name: bad}
spec:
  ${spec}
  stages:
${stages}
`;
const st = (name: string, deps: string[] = []) => `  - {name: ${name}, baseModel: m, dataset: d, dependsOn: [${deps.join(', ')}]}`;

async function rejected(yaml: string): Promise<string> {
  const r = await env.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: yaml, allowFail: true });
  assert.notEqual(r.code, 0, `expected a rejection, got: ${r.stdout}`);
  return r.stderr;
}

test('the example run applies and the API server fills in the defaults', K8S, async () => {
  await env.kubectl(['apply', '-f', 'k8s/examples/stacktrainingrun.yaml']);
  const r = await env.json(['get', 'str', 'pythia-4x160m']);
  assert.deepEqual(r.spec.stages.map((s: any) => [s.name, s.dependsOn]), [['understand', []], ['keywords', ['understand']], ['answer', ['keywords']], ['final', ['understand', 'answer']]]);
  assert.deepEqual(r.spec.template.command, ['fslm-trainer', 'stage-job']);
  assert.deepEqual(r.spec.retry.nonRetryableExitCodes, [2]);
  assert.equal(r.spec.suspend, false);
  const minimal = await env.kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], { input: run(st('only')) });
  const m = JSON.parse(minimal.stdout);
  assert.deepEqual(m.spec.stages[0].lora, { rank: 8, alpha: 16, dropout: 0.05, targetModules: ['all-linear'] });
  assert.deepEqual(m.spec.template.resources, { limits: { 'nvidia.com/gpu': 1 } });
  assert.deepEqual(m.spec.retry, { limit: 3, backoffSeconds: 10, maxBackoffSeconds: 300, nonRetryableExitCodes: [2] });
  assert.equal(m.spec.output.uri, 'file:///models');
});

test('the short name and the fslm category list runs', K8S, async () => {
  await env.kubectl(['apply', '-f', 'k8s/examples/stacktrainingrun.yaml']);
  assert.match((await env.kubectl(['get', 'str'])).stdout, /^NAME\s+PHASE\s+PROGRESS\s+AGE\n/);
  assert.match((await env.kubectl(['get', 'fslm'])).stdout, /pythia-4x160m/);
});

test('a dependsOn that names no stage is rejected', K8S, async () => {
  assert.match(await rejected(run([st('a'), st('b', ['a', 'nope'])].join('\n'))), /spec\.stages: Invalid value: .*dependsOn must name stages in spec\.stages/);
});

test('cycles are rejected, naming their length', K8S, async () => {
  assert.match(await rejected(run(st('a', ['a']))), /spec\.stages\[0\]\.dependsOn: Invalid value: .*a stage cannot depend on itself/);
  assert.match(await rejected(run([st('a', ['b']), st('b', ['a'])].join('\n'))), /dependsOn has a cycle of two stages/);
  assert.match(await rejected(run([st('a', ['c']), st('b', ['a']), st('c', ['b'])].join('\n'))), /dependsOn has a cycle of three stages/);
  assert.match(await rejected(run([st('x'), st('a', ['d', 'x']), st('b', ['a']), st('c', ['b']), st('d', ['c'])].join('\n'))), /dependsOn has a cycle of four stages/);
});

test('negative retries, a missing image and bad names are rejected', K8S, async () => {
  assert.match(await rejected(run(st('a'), 'template: {image: t}\n  retry: {limit: -1}')), /spec\.retry\.limit: Invalid value: -1: .*greater than or equal to 0/);
  assert.match(await rejected(run([st('a'), `  - {name: b, baseModel: m, dataset: d, image: own}`].join('\n'), 'template: {}')),
    /spec\.template: Required value: every stage needs an image/);
  assert.match(await rejected(run(st('Bad_Name'))), /spec\.stages\[0\]\.name: Invalid value: "Bad_Name"/);
  assert.match(await rejected(run([st('a'), st('a')].join('\n'))), /spec\.stages\[1\]: Duplicate value/);
  assert.match(await rejected(run(st('a'), 'template: {image: t}\n  retry: {backoffSeconds: 60, maxBackoffSeconds: 5}')), /maxBackoffSeconds must be at least backoffSeconds/);
  assert.match(await rejected(run(st('a'), 'template: {image: t}\n  rollout: {stage: nope, target: {stack: s}}')), /spec\.rollout\.stage must name a stage/);
  assert.match(await rejected(run('    []')), /spec\.stages: Invalid value: 0: .*should have at least 1 items/);
});

test('a stage with its own image needs no template image; a 16-stage dense DAG is within the CEL cost budget', K8S, async () => {
  await env.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: run(`  - {name: a, baseModel: m, dataset: d, image: own}`, 'template: {}') });
  const names = Array.from({ length: 16 }, (_, i) => `s${i}`);
  const dense = names.map((n, i) => st(n, names.slice(Math.max(0, i - 15), i))).join('\n');
  await env.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: run(dense) });
});

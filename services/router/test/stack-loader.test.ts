import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { loadStackFile, parseStack, StackDefinitionError } from '../src/stack-loader.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function stackDoc(stages: Array<Record<string, unknown>>, name = 'demo') {
  return stringify({ apiVersion: 'fslm.dev/v1alpha1', kind: 'Stack', metadata: { name }, spec: { stages } });
}

function problems(text: string): Array<{ path: string; message: string }> {
  try {
    parseStack(text);
  } catch (error) {
    assert.ok(error instanceof StackDefinitionError);
    return error.problems;
  }
  assert.fail('expected the stack to be refused');
}

describe('stack definitions', { timeout: 10_000 }, () => {
  test('the default stack loads: four roles, each stage after the first fed by the streamed hand-off', async () => {
    const stack = await loadStackFile(path.join(ROOT, 'stacks/default.yaml'));
    assert.equal(stack.name, 'default');
    assert.deepEqual(stack.stages.map((s) => s.name), ['understand', 'keywords', 'intermediate', 'final']);
    assert.deepEqual(stack.stages.map((s) => s.handoffFrom), [null, 'understand', 'keywords', 'intermediate']);
    assert.deepEqual(stack.stages.map((s) => s.subjectPrefix), stack.stages.map((s) => `fslm.default.${s.name}`));
    assert.ok(stack.stages.every((s) => s.model === `default-${s.name}-onnx` && s.budgetMs > 0));
  });

  test('the untuned stack is the default stack on the base model: the same stages, prompts and parameters', async () => {
    const trained = await loadStackFile(path.join(ROOT, 'stacks/default.yaml'));
    const untuned = await loadStackFile(path.join(ROOT, 'stacks/untuned.yaml'));
    assert.equal(untuned.name, 'untuned');
    assert.ok(untuned.stages.every((s) => s.model === 'smollm2-135m-onnx'));
    const role = ({ name, system, template, params, budgetMs, precision }: typeof trained.stages[number]) => ({ name, system, template, params, budgetMs, precision });
    assert.deepEqual(untuned.stages.map(role), trained.stages.map(role));
  });

  test('every problem is reported with its field path', () => {
    const found = problems(stackDoc([
      { name: 'Bad Name', model: 'm', template: 'x' },
      { name: 'b', template: '{stages.later} {input}', params: { temperature: 11, maxNewTokens: 0, colour: 'red' }, budgetMs: -1 },
      { name: 'later', model: 'm', template: 'fine {input}', subject: 'has space' },
    ]));
    const paths = found.map((p) => p.path);
    assert.deepEqual(paths.sort(), [
      'spec.stages[0].name', 'spec.stages[1].budgetMs', 'spec.stages[1].model', 'spec.stages[1].params.colour',
      'spec.stages[1].params.maxNewTokens', 'spec.stages[1].params.temperature', 'spec.stages[1].template', 'spec.stages[2].subject',
    ].sort());
    assert.match(found.find((p) => p.path === 'spec.stages[1].template')!.message, /a stage listed before it/);
  });

  test('no number of a stack can wrap on the wire or in a timer: budgets and topK are bounded', () => {
    const found = problems(stackDoc([
      { name: 'a', model: 'm', template: '{input}', budgetMs: 86_400_001, params: { topK: 2 ** 32 } },
      ...Array.from({ length: 25 }, (_, i) => ({ name: `s${i}`, model: 'm', template: '{input}', budgetMs: 86_400_000 })),
    ]));
    assert.deepEqual(found.map((p) => p.path).sort(), ['spec.stages', 'spec.stages[0].budgetMs', 'spec.stages[0].params.topK']);
    // At most 8 stages of at most a day each: their sum stays below 2^31 ms (a timer's limit).
    assert.equal(found.find((p) => p.path === 'spec.stages')!.message, 'must have at most 8 items');
  });

  test('the kind, apiVersion and metadata are checked like a Kubernetes object', () => {
    const found = problems('apiVersion: v1\nkind: ConfigMap\nmetadata: {}\nspec: {stages: []}\n');
    assert.deepEqual(found.map((p) => p.path), ['apiVersion', 'kind', 'metadata.name', 'spec.stages']);
  });

  test('a template that uses the previous text twice, or not at all, gets the plain hand-off', () => {
    const stack = parseStack(stackDoc([
      { name: 'a', model: 'm', template: '{input}' },
      { name: 'b', model: 'm', template: '{stages.a} then {stages.a}' },
      { name: 'c', model: 'm', template: 'only {input}' },
      { name: 'd', model: 'm', template: '{stages.c} and {stages.a}' },
    ]));
    assert.deepEqual(stack.stages.map((s) => s.handoffFrom), [null, null, null, 'c']);
  });

  test('YAML syntax errors are reported, not thrown raw', () => {
    assert.deepEqual(problems('spec: [unclosed').map((p) => p.path), ['(yaml)']);
  });
});

test('a stage names the precision its processes serve; fp32 when it names none; anything else is refused', { timeout: 10_000 }, () => {
  const stack = parseStack(stackDoc([
    { name: 'a', model: 'm', template: '{input}', precision: 'int4' },
    { name: 'b', model: 'm', template: '{input}' },
  ]));
  assert.deepEqual(stack.stages.map((s) => s.precision), ['int4', 'fp32']);
  const found = problems(stackDoc([{ name: 'a', model: 'm', template: '{input}', precision: 'int3' }]));
  assert.deepEqual(found, [{ path: 'spec.stages[0].precision', message: 'must be one of fp32, int8, int4' }]);
});

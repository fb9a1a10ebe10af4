// The router's stack check against the shared corpus (test/fixtures/stacks): the same files accepted
// and refused as by the trainer and the API server, with the expected problems; the schema file is
// current with the CRD; every CEL rule has a mirror, and the mirrors agree with the rules' CEL on
// generated templates.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { renderStackSchema, STACK_CRD_FILE, STACK_SCHEMA_FILE } from '../../../scripts/k8s/render-stack-schema.ts';
import { corpus } from '../../../test/support/stack-corpus.ts';
import { parseStack, StackDefinitionError } from '../src/stack-loader.ts';
import { celRuleMessages, RULE_MIRRORS } from '../src/stack-rules.ts';
import { parseTemplate } from '../src/template.ts';
import { MAX_REPETITION_PENALTY, MAX_STACK_BUDGET_MS, MAX_STAGE_BUDGET_MS, MAX_STAGE_NEW_TOKENS, MAX_STOP_LENGTH, MAX_STOP_SEQUENCES, MAX_TEMPERATURE, MIN_REPETITION_PENALTY } from '../src/defaults.ts';
import { UINT32_MAX } from '../src/generation-checks.ts';

const problems = (file: string): string[] => {
  try {
    parseStack(readFileSync(file, 'utf8'), file);
    return [];
  } catch (e) {
    if (!(e instanceof StackDefinitionError)) throw e;
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
};

const crdRules = (): { rule: string; message: string }[] => {
  const crd = parse(readFileSync(STACK_CRD_FILE, 'utf8'), { merge: true });
  const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  return [...spec['x-kubernetes-validations'], ...spec.properties.stages['x-kubernetes-validations'], ...spec.properties.stages.items['x-kubernetes-validations']];
};

describe('stack files', { timeout: 60_000 }, () => {
  for (const c of corpus()) {
    test(`${c.name} is ${c.valid ? 'accepted' : 'refused with the expected problems'}`, () => {
      const found = problems(c.file);
      if (c.valid) assert.deepEqual(found, [], `${c.name} must be accepted`);
      else {
        assert.ok(c.expected.length > 0, `${c.name} lists no expected problems`);
        assert.deepEqual(found, c.expected);
      }
    });
  }

  test('stacks/stack.schema.json is rendered from the CRD', () => {
    assert.equal(readFileSync(STACK_SCHEMA_FILE, 'utf8'), renderStackSchema(), 'run: node --import tsx scripts/k8s/render-stack-schema.ts');
  });

  test('the CRD\'s bounds are the router\'s limits', () => {
    const stages = parse(readFileSync(STACK_CRD_FILE, 'utf8'), { merge: true }).spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.stages;
    const p = stages.items.properties.params.properties;
    assert.deepEqual(
      [p.maxNewTokens.maximum, p.temperature.maximum, p.topK.maximum, p.repetitionPenalty.minimum, p.repetitionPenalty.maximum, p.stop.maxItems, p.stop.items.maxLength, stages.items.properties.budgetMs.maximum],
      [MAX_STAGE_NEW_TOKENS, MAX_TEMPERATURE, UINT32_MAX, MIN_REPETITION_PENALTY, MAX_REPETITION_PENALTY, MAX_STOP_SEQUENCES, MAX_STOP_LENGTH, MAX_STAGE_BUDGET_MS]);
    assert.ok(stages.maxItems * MAX_STAGE_BUDGET_MS <= MAX_STACK_BUDGET_MS, 'no stack\'s budgets add up past a timer\'s limit');
  });

  test('every CEL rule of the CRD has a mirror, and every mirror a rule', () => {
    assert.deepEqual(celRuleMessages().sort(), Object.keys(RULE_MIRRORS).sort());
    assert.deepEqual(crdRules().map((r) => r.message).sort(), Object.keys(RULE_MIRRORS).sort());
  });

  // Templates over the characters that matter to the grammar.
  const template = fc.array(fc.constantFrom('{', '}', '{{', '}}', ' ', '\t', 'input', 'stages.', 'a', 'b-c', '.', 'x', '\n'), { maxLength: 14 }).map((p) => p.join(''));

  test('the template rule\'s regex (CEL matches) accepts exactly what the parser accepts', () => {
    const rule = crdRules().find((r) => r.rule.includes('.matches('))!.rule;
    const regex = new RegExp(/matches\('(.*)'\)$/.exec(rule)![1]);
    const parses = (t: string): boolean => {
      try {
        parseTemplate(t);
        return true;
      } catch {
        return false;
      }
    };
    fc.assert(fc.property(template, (t) => regex.test(t) === parses(t)), { numRuns: 5000 });
  });

  test('the earlier-stage rule, evaluated as CEL would, refuses exactly the stacks the mirrors refuse', () => {
    const rule = crdRules().find((r) => r.rule.includes('findAll'))!.rule;
    const [anyRef, oneRef] = [...rule.matchAll(/findAll\('(.*?)'\)\.size/g)].map((m) => m[1]);
    const [before, after] = oneRef.split("' + o.name + '");
    const unescaped = (t: string): string => t.replaceAll('{{', '').replaceAll('}}', '');
    const count = (t: string, re: string): number => [...unescaped(t).matchAll(new RegExp(re, 'g'))].length;
    const named = fc.array(fc.constantFrom('{', '}', '{{', '}}', ' ', 'input', 'stages.', 'a', 'b', 'x', '.'), { maxLength: 12 }).map((p) => p.join(''));
    const stacks = fc.array(named, { minLength: 1, maxLength: 3 }).map((templates) => templates.map((template, i) => ({ name: 'abx'[i], template })));
    fc.assert(fc.property(stacks, (stages) => {
      const doc = { spec: { stages } };
      const parses = stages.every((s) => RULE_MIRRORS['template: write {input} or {stages.<name>} for a text, {{ and }} for literal braces'](doc).length === 0);
      if (!parses) return true; // the syntax rule refuses these on both sides
      // As CEL: for each stage, its references equal those naming the stages before it (replace() replaces every occurrence).
      const cel = stages.every((s, i) => count(s.template, anyRef) === stages.slice(0, i).reduce((n, o) => n + count(s.template, `${before}${o.name}${after}`), 0));
      const mirror = RULE_MIRRORS['a template may only use {stages.<name>} of a stage listed before it'](doc).length === 0;
      return cel === mirror;
    }), { numRuns: 5000 });
  });
});

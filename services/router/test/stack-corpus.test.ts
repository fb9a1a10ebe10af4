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
import { parseTemplate, stageReferences } from '../src/template.ts';

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

  test('the earlier-stage rule\'s CEL extraction finds exactly the parser\'s references', () => {
    const rule = crdRules().find((r) => r.rule.includes('findAll'))!.rule;
    const found = new RegExp(/findAll\('(.*?)'\)/.exec(rule)![1], 'g');
    fc.assert(fc.property(template, (t) => {
      let parsed;
      try {
        parsed = parseTemplate(t);
      } catch {
        return true; // the syntax rule refuses these
      }
      // As CEL: replace() replaces every occurrence, left to right; findAll; strip braces and blanks; drop "stages.".
      const cel = [...t.replaceAll('{{', '').replaceAll('}}', '').matchAll(found)]
        .map((m) => m[0].replaceAll('{', '').replaceAll('}', '').trim().substring(7));
      return JSON.stringify([...new Set(cel)].sort()) === JSON.stringify([...stageReferences(parsed).keys()].sort());
    }), { numRuns: 5000 });
  });
});

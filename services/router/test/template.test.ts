import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTemplate, renderTemplate, stageReferences, TemplateSyntaxError } from '../src/template.ts';

describe('templates', { timeout: 10_000 }, () => {
  test('a template renders {input} and {stages.<name>}, with {{ and }} as literal braces', () => {
    const t = parseTemplate('Q: {input}\nA: {stages.first} {{not a ref}}');
    assert.equal(renderTemplate(t, { input: 'why?', stages: { first: 'because' } }), 'Q: why?\nA: because {not a ref}');
  });

  test('stage references are counted, so the hand-off knows when a template uses a text once', () => {
    const t = parseTemplate('{stages.a} and {stages.b} then {stages.a}');
    assert.deepEqual([...stageReferences(t)], [['a', 2], ['b', 1]]);
  });

  test('a pending stage renders as the sentinel', () => {
    const t = parseTemplate('{input} / {stages.prev} / end');
    assert.equal(renderTemplate(t, { input: 'x', stages: {} }, { stage: 'prev', sentinel: '<S>' }), 'x / <S> / end');
  });

  test('syntax errors name the column', () => {
    assert.throws(() => parseTemplate('ok {inputs}'), (e) => e instanceof TemplateSyntaxError && e.column === 4);
    assert.throws(() => parseTemplate('open { never closed'), /unclosed/);
    assert.throws(() => parseTemplate('stray } brace'), /unmatched/);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSchema, type StructuralSchema } from '../src/schema-check.ts';

const schema: StructuralSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 8, pattern: '^[a-z]+$' },
    alpha: { type: 'number', minimum: 0, exclusiveMinimum: true },
    rank: { type: 'integer', minimum: 1, maximum: 4 },
    mode: { type: 'string', enum: ['a', 'b'] },
    tags: { type: 'array', maxItems: 2, 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
    env: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string' } } } },
    limits: { type: 'object', additionalProperties: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } },
    free: { type: 'object' },
  },
};
const fields = (v: unknown) => checkSchema(v, schema, 'spec').map((p) => `${p.field}: ${p.message}`);

test('a conforming value has no problems', { timeout: 30_000 }, () => {
  assert.deepEqual(fields({ name: 'ok', alpha: 0.5, rank: 4, mode: 'a', tags: ['x', 'y'], env: [{ name: 'A' }, { name: 'B', value: '' }],
    limits: { 'nvidia.com/gpu': 1, cpu: '2' }, free: { anything: { goes: true } } }), []);
});

test('each problem names its field path', { timeout: 30_000 }, () => {
  const out = fields({ alpha: 0, rank: 1.5, mode: 'c', tags: ['x', 'x', 'y'], env: [{ name: 'A' }, { name: 'A' }], limits: { cpu: true }, typo: 1 });
  assert.deepEqual([...out].sort(), [
    'spec.alpha: must be greater than 0, got 0',
    'spec.rank: must be an integer, got number 1.5',
    'spec.mode: must be one of "a", "b", got "c"',
    'spec.tags: must have at most 2 items',
    'spec.tags[1]: duplicate value "x" (also at [0])',
    'spec.env[1]: duplicate name "A" (also at [0])',
    'spec.limits.cpu: must be an integer or a string, got true',
    'spec.name: required field is missing',
    'spec.typo: unknown field',
  ].sort());
});

test('strings are checked for length and pattern, keys with dots are quoted', { timeout: 30_000 }, () => {
  assert.deepEqual(fields({ name: 'TooLongName' }), ['spec.name: must be at most 8 characters', 'spec.name: "TooLongName" does not match ^[a-z]+$']);
  assert.deepEqual(checkSchema({ 'a.b': 'x' }, { type: 'object', additionalProperties: { type: 'integer' } }, 'm').map((p) => p.field), ['m["a.b"]']);
});

test('a wrong type stops the checks below it', { timeout: 30_000 }, () => {
  assert.deepEqual(fields({ name: 'ok', tags: 'x' }), ['spec.tags: must be an array, got string "x"']);
});

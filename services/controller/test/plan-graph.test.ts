import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCycle, readyStages, topologicalOrder, validateGraph } from '../src/plan-graph.ts';

const g = (spec: Record<string, string[]>) => Object.entries(spec).map(([name, dependsOn]) => ({ name, dependsOn }));

test('validateGraph accepts a DAG listed in any order', { timeout: 30_000 }, () => {
  assert.deepEqual(validateGraph(g({ final: ['answer', 'understand'], answer: ['keywords'], keywords: ['understand'], understand: [] })), []);
});

test('validateGraph names unknown dependsOn, self-dependency and duplicates with their field paths', { timeout: 30_000 }, () => {
  const problems = validateGraph([...g({ a: ['nope'], b: ['b'] }), { name: 'a' }]);
  assert.deepEqual(problems.map((p) => p.field), ['spec.stages[2].name', 'spec.stages[0].dependsOn[0]', 'spec.stages[1].dependsOn[0]']);
  assert.match(problems[1].message, /unknown stage "nope"/);
  assert.match(problems[2].message, /depends on itself/);
});

test('validateGraph finds cycles longer than the CRD rules can see', { timeout: 30_000 }, () => {
  const problems = validateGraph(g({ a: ['e'], b: ['a'], c: ['b'], d: ['c'], e: ['d'] }));
  assert.equal(problems.length, 1);
  assert.equal(problems[0].message, 'dependsOn has a cycle: a -> e -> d -> c -> b -> a');
});

test('findCycle returns undefined for a DAG and ignores unknown names', { timeout: 30_000 }, () => {
  assert.equal(findCycle(g({ a: [], b: ['a', 'ghost'], c: ['a', 'b'] })), undefined);
});

test('topologicalOrder puts dependencies first and keeps the spec order among peers', { timeout: 30_000 }, () => {
  assert.deepEqual(topologicalOrder(g({ final: ['x', 'y'], y: ['root'], x: ['root'], root: [] })), ['root', 'y', 'x', 'final']);
  assert.throws(() => topologicalOrder(g({ a: ['b'], b: ['a'] })), /cycle/);
});

test('readyStages lists unstarted stages whose dependencies are done', { timeout: 30_000 }, () => {
  const graph = g({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] });
  const done = new Set(['a', 'b']);
  const started = new Set(['a', 'b']);
  assert.deepEqual(readyStages(graph, (n) => done.has(n), (n) => started.has(n)), ['c']);
});

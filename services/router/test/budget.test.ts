import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultDeadline, stageDeadline } from '../src/budget.ts';
import { parseTemplate } from '../src/template.ts';
import type { StageDefinition } from '../src/types.ts';

const stage = (name: string, budgetMs: number): StageDefinition => ({
  name, budgetMs, model: 'm', precision: 'fp32', subjectPrefix: `fslm.s.${name}`, system: '', template: parseTemplate('{input}'), params: {}, handoffFrom: null,
});
const stages = [stage('a', 1000), stage('b', 3000)];

test('without a client deadline a request gets the sum of the stage budgets', () => {
  assert.equal(defaultDeadline(stages, 10_000), 14_000);
});

test('the time left is split in proportion to the budgets of the stages still to run', () => {
  assert.equal(stageDeadline(stages, 0, 0, 2000), 500);
  // The first stage finished early: the last one gets everything that is left.
  assert.equal(stageDeadline(stages, 1, 200, 2000), 2000);
});

test('a stage deadline never passes the request deadline, and a late stage gets none', () => {
  assert.equal(stageDeadline(stages, 1, 5000, 2000), 2000);
});

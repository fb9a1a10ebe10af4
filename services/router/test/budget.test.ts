// The request deadline (budget.ts): the client's deadline less the margin, or the stages' budgets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { totalBudgetMs, workDeadline } from '../src/budget.ts';
import { DEADLINE_MARGIN_MS } from '../src/defaults.ts';
import { parseTemplate } from '../src/template.ts';
import type { StageDefinition } from '../src/types.ts';

const stage = (name: string, budgetMs: number): StageDefinition => ({
  name, budgetMs, model: 'm', precision: 'fp32', subjectPrefix: `fslm.s.${name}`, system: '', template: parseTemplate('{input}'), params: {}, handoffFrom: null,
});
// A first stage with a tiny budget: under a per-stage split it would get almost none of the client's time.
const stages = [stage('a', 1), stage('b', 3000)];

describe('deadlines', { timeout: 10_000 }, () => {
  test('without a client deadline a request gets the sum of the stage budgets, from its start', () => {
    assert.equal(totalBudgetMs(stages), 3001);
    assert.equal(workDeadline(stages, Infinity, 10_000), 13_001);
  });

  test('with a client deadline the work may run until that deadline less the stated margin, whatever the budgets', () => {
    assert.equal(workDeadline(stages, 20_000, 10_000), 20_000 - DEADLINE_MARGIN_MS);
    assert.equal(workDeadline(stages, 20_000, 10_000, 250), 19_750);
    // The budgets do not cut it short: the work deadline is the same for a stack with any budgets.
    assert.equal(workDeadline([stage('x', 60_000)], 20_000, 10_000), workDeadline(stages, 20_000, 10_000));
  });

  test('a client deadline nearer than the margin leaves no time at all', () => {
    assert.ok(workDeadline(stages, 10_050, 10_000) < 10_000);
  });
});

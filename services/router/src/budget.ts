// One client deadline split into per-stage budgets: each stage gets its share of the time that is
// left, in proportion to the budgets of the stages still to run, so time a fast stage saves goes to
// the stages after it.
import type { StageDefinition } from './types.ts';

/** The sum of the stages' budgets: a stack's default deadline, relative to its start. */
export function totalBudgetMs(stages: readonly StageDefinition[]): number {
  return stages.reduce((sum, s) => sum + s.budgetMs, 0);
}

/** The deadline of a request that sets none: the sum of its stages' budgets from now. */
export function defaultDeadline(stages: readonly StageDefinition[], now: number): number {
  return now + totalBudgetMs(stages);
}

/** Absolute deadline of stage `index`, starting now, within the request's deadline. */
export function stageDeadline(stages: readonly StageDefinition[], index: number, now: number, requestDeadline: number): number {
  const remaining = totalBudgetMs(stages.slice(index));
  const left = Math.max(0, requestDeadline - now);
  return Math.min(requestDeadline, now + (left * stages[index].budgetMs) / remaining);
}

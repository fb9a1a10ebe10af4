// A request's deadline. The client's deadline is the promise: every stage may use all the time that
// is left of it, so time a fast stage saves goes to the stages after it, and the request fails only
// when the client's deadline minus DEADLINE_MARGIN_MS has passed (the margin carries the answer back
// before the client gives up). The stages' `budgetMs` shape the deadline of a request that sets none:
// their sum, from the request's start.
import { DEADLINE_MARGIN_MS } from './defaults.ts';
import type { StageDefinition } from './types.ts';

/** The sum of the stages' budgets: a stack's default deadline, relative to its start. */
export function totalBudgetMs(stages: readonly StageDefinition[]): number {
  return stages.reduce((sum, s) => sum + s.budgetMs, 0);
}

/**
 * When a request's work must end (epoch ms): the client's deadline minus `marginMs`, or, when the
 * client set none (`clientDeadlineMs` not finite), the sum of the stage budgets from `now` (no
 * client then waits on a timer of its own, so no margin).
 */
export function workDeadline(stages: readonly StageDefinition[], clientDeadlineMs: number, now: number, marginMs = DEADLINE_MARGIN_MS): number {
  return Number.isFinite(clientDeadlineMs) ? clientDeadlineMs - marginMs : now + totalBudgetMs(stages);
}

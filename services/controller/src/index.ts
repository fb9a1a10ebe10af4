// Public API of the controller package: the CLI entry, the StackTrainingRun types, and the pure plan
// logic that a local executor (`fslm train --local`) reuses.
export { runController } from './main.ts';
export * from './types.ts';
export { resolveSpec, stageOutput, type ResolvedSpec, type ResolvedStage } from './defaults.ts';
export { validateGraph, topologicalOrder, findCycle, readyStages, type GraphProblem } from './plan-graph.ts';
export { evaluatePlan, backoffSeconds, progressOf, type AttemptRecord, type PlanInput, type PlanEvaluation, type StagePlanStatus } from './plan.ts';
export { parseProgress, parseMetrics } from './trainer-report.ts';
export { runTraceIds, stageSpanId, formatTraceparent } from './trace-context.ts';

// The spans of a training run, read off its status: one per finished stage (its real start and end,
// parent of the trainer's TRACEPARENT) and the run's root span once the run is finished. The ids come
// from the run's uid (trace-context.ts), so the operator and the local executor export the same tree.
import { toDate } from './job-observation.ts';
import type { RunTraceIds } from './trace-context.ts';
import type { RunStatus, StackTrainingRun, StageStatus } from './types.ts';
import { RunPhase, StagePhase } from './types.ts';

export interface SpanRecord {
  stage?: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  start: Date;
  end: Date;
  ok: boolean;
  attributes: Record<string, string | number>;
}

export const isTerminalStage = (p: string): boolean => p === StagePhase.Succeeded || p === StagePhase.Failed || p === StagePhase.Cancelled;

/** The span of a stage that has ended, or undefined while it has not. */
export function stageSpan(s: StageStatus, ids: RunTraceIds): SpanRecord | undefined {
  if (!isTerminalStage(s.phase) || !s.spanId || !s.startTime || !s.finishTime) return undefined;
  return {
    stage: s.name, traceId: ids.traceId, spanId: s.spanId, parentSpanId: ids.rootSpanId,
    start: new Date(s.startTime), end: new Date(s.finishTime), ok: s.phase === StagePhase.Succeeded,
    attributes: { 'fslm.stage': s.name, 'fslm.stage.phase': s.phase, 'fslm.stage.attempts': s.attempts, 'fslm.stage.job': s.job ?? '',
      'fslm.stage.node': s.node ?? '', ...(s.lastExitCode !== undefined ? { 'fslm.stage.exit_code': s.lastExitCode } : {}) },
  };
}

/** The run's root span, from its creation to its completion. */
export function runSpan(run: StackTrainingRun, status: RunStatus, ids: RunTraceIds, fallbackStart: Date): SpanRecord {
  return {
    traceId: ids.traceId, spanId: ids.rootSpanId,
    start: toDate(run.metadata.creationTimestamp) ?? fallbackStart,
    end: toDate(status.completionTime) ?? fallbackStart, ok: status.phase === RunPhase.Succeeded,
    attributes: { 'fslm.run': run.metadata.name, 'fslm.run.namespace': run.metadata.namespace ?? '', 'fslm.run.phase': status.phase ?? '', 'fslm.run.progress': status.progress ?? '' },
  };
}

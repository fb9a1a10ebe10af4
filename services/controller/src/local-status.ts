// The status of a local run, in the operator's status model: the plan's phases and reasons, with the
// attempts' real start and finish times, the trainer's progress and metrics, conditions and trace ids.
// The local twin of the status half of reconcile-run.ts, fed by processes instead of Jobs and Pods.
import { hostname } from 'node:os';
import type { ResolvedSpec } from './defaults.ts';
import type { AttemptRecord, PlanEvaluation } from './plan.ts';
import type { RunStatus, StackTrainingRun, StageStatus, TrainerProgress } from './types.ts';
import { StagePhase, isFinished } from './types.ts';
import { conditionsFor } from './conditions.ts';
import { jobName } from './job-builder.ts';
import { progressOf } from './plan.ts';
import { formatTraceparent, runTraceIds, stageSpanId } from './trace-context.ts';
import { isTerminalStage } from './run-spans.ts';
import { completionOf, iso, normalize } from './status-common.ts';

export interface StageReport {
  progress?: TrainerProgress;
  metrics?: Record<string, number>;
}

export interface LocalStatusInput {
  run: StackTrainingRun;
  spec: ResolvedSpec;
  plan: PlanEvaluation;
  attempts: ReadonlyMap<string, readonly AttemptRecord[]>;
  /** What the trainer of each stage's latest attempt reported. */
  reports: ReadonlyMap<string, StageReport>;
  previous: RunStatus | undefined;
  now: Date;
}

function stageStatus(input: LocalStatusInput, name: string): StageStatus {
  const { run, spec, plan } = input;
  const ps = plan.stages.find((s) => s.name === name)!;
  const stage = spec.stages.find((s) => s.name === name)!;
  const attempts = [...(input.attempts.get(name) ?? [])].sort((a, b) => a.attempt - b.attempt);
  const last = attempts.at(-1);
  const prev = input.previous?.stages?.find((s) => s.name === name);
  const report = input.reports.get(name);
  const started = ps.attempts > 0 && attempts.length > 0;
  return {
    name,
    phase: ps.phase,
    attempts: ps.attempts,
    job: started ? jobName(run.metadata.name, name, last!.attempt) : undefined,
    node: started ? hostname() : undefined,
    startTime: iso(attempts[0]?.startedAt),
    // The process's own end; a stage cancelled while its process is still stopping has none yet.
    finishTime: isTerminalStage(ps.phase) && started
      ? iso(last?.finishedAt) ?? (last?.state === 'active' ? undefined : prev?.finishTime ?? iso(ps.finishTime)) : undefined,
    nextAttemptTime: iso(ps.nextAttemptTime),
    lastExitCode: ps.lastExitCode,
    reason: ps.reason,
    message: ps.message?.slice(0, 1024),
    outputs: ps.phase === StagePhase.Succeeded ? { model: stage.output } : undefined,
    progress: report?.progress,
    metrics: report?.metrics,
    spanId: stageSpanId(run.metadata.uid, name),
  };
}

export function localStatus(input: LocalStatusInput): RunStatus {
  const { run, plan, now } = input;
  const prev = input.previous ?? {};
  const finished = isFinished(plan.phase);
  const stages = input.spec.stages.map((s) => stageStatus(input, s.name));
  const { traceId, rootSpanId } = runTraceIds(run.metadata.uid);
  const status: RunStatus = {
    observedGeneration: run.metadata.generation,
    phase: plan.phase,
    progress: progressOf(plan),
    startTime: prev.startTime ?? iso(plan.startTime),
    completionTime: finished ? (prev.completionTime ?? completionOf(stages.map((s) => s.finishTime), plan.phase === 'Succeeded', now)) : undefined,
    reason: plan.reason,
    message: plan.message.slice(0, 2048),
    conditions: conditionsFor(prev.conditions, plan.phase, plan.reason, plan.message.slice(0, 1024), run.metadata.generation, now),
    stages,
    traceparent: formatTraceparent(traceId, rootSpanId),
  };
  return normalize(status);
}

// The decision half of reconcile, as a pure function: from a run, the Jobs and Pods it owns and the
// clock, compute the status it should have and the actions that bring the cluster there. Running it
// twice on the same input gives the same answer, and every action is safe to repeat.
import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import type { ResolvedSpec } from './defaults.ts';
import type { PlanEvaluation } from './plan.ts';
import type { RolloutSpec, RunStatus, StackTrainingRun, StageStatus } from './types.ts';
import { resolveSpec } from './defaults.ts';
import { conditionsFor } from './conditions.ts';
import { buildJob, jobName } from './job-builder.ts';
import { observeStage, toDate, type StageObservation } from './job-observation.ts';
import { evaluatePlan, progressOf } from './plan.ts';
import { isTerminalStage, runSpan, stageSpan, type SpanRecord } from './run-spans.ts';
import { completionOf, iso } from './status-common.ts';
import { formatTraceparent, runTraceIds, stageSpanId } from './trace-context.ts';
import { Label, RunPhase, StagePhase, isFinished } from './types.ts';

export type Action =
  | { type: 'createJob'; stage: string; attempt: number; job: V1Job }
  | { type: 'suspendJob'; stage: string; name: string; suspend: boolean }
  | { type: 'deleteRun' }
  | { type: 'rollout'; rollout: RolloutSpec; model: string };

/** A finished span to export: the run's root span (no stage) or one stage's. */
export interface ReconcileDecision {
  status: RunStatus;
  actions: Action[];
  spans: SpanRecord[];
  /** Look at the run again after this long even if nothing changes in the cluster. */
  requeueAfterMs?: number;
}

export interface ReconcileInput {
  run: StackTrainingRun;
  jobs: readonly V1Job[];
  pods: readonly V1Pod[];
  /** FailedCreate events of the run's Jobs. */
  events?: readonly CoreV1Event[];
  now: Date;
  identity: string;
}

/** What is wrong with the spec besides its stage graph, which evaluatePlan checks. */
function specProblems(spec: ResolvedSpec): string[] {
  const out: string[] = [];
  spec.stages.forEach((s, i) => {
    if (!s.image) out.push(`spec.stages[${i}].image: stage "${s.name}" has no image (set spec.template.image or the stage's image)`);
  });
  if (spec.rollout && !spec.stages.some((s) => s.name === spec.rollout!.stage)) {
    out.push(`spec.rollout.stage: unknown stage "${spec.rollout.stage}"`);
  }
  return out;
}

function stageStatus(
  run: StackTrainingRun, spec: ResolvedSpec, plan: PlanEvaluation, name: string,
  obs: StageObservation | undefined, prev: StageStatus | undefined,
): StageStatus {
  let ps = plan.stages.find((s) => s.name === name)!;
  // A stage that failed stays failed: once its Job is stopped (e.g. after it could not start), the plan
  // sees a suspended attempt and would call the stage Cancelled.
  if (prev?.phase === StagePhase.Failed && ps.phase === StagePhase.Cancelled) {
    ps = { ...ps, phase: StagePhase.Failed, reason: prev.reason, message: prev.message, finishTime: toDate(prev.finishTime) ?? ps.finishTime };
  }
  const stage = spec.stages.find((s) => s.name === name)!;
  const started = plan.start.find((s) => s.stage === name);
  const job = started ? jobName(run.metadata.name, name, started.attempt) : obs?.current?.job ?? prev?.job;
  const sameJob = prev?.job !== undefined && prev.job === job;
  const cur = obs?.current?.job === job ? obs?.current : undefined;
  return {
    name,
    phase: ps.phase,
    attempts: ps.attempts,
    job,
    pod: cur?.pod ?? (sameJob ? prev?.pod : undefined),
    node: cur?.node ?? (sameJob ? prev?.node : undefined),
    // Server times (the first Job's creation), not this replica's clock, so start and finish compare.
    startTime: (prev?.attempts ? prev.startTime : undefined) ?? iso(obs?.attempts[0]?.startedAt),
    finishTime: isTerminalStage(ps.phase) && ps.attempts > 0 ? (prev?.finishTime ?? iso(ps.finishTime)) : undefined,
    nextAttemptTime: iso(ps.nextAttemptTime),
    lastExitCode: ps.lastExitCode,
    reason: ps.reason,
    message: ps.message?.slice(0, 1024),
    outputs: ps.phase === StagePhase.Succeeded ? { model: stage.output } : undefined,
    progress: cur?.progress ?? (sameJob ? prev?.progress : undefined),
    metrics: cur?.metrics ?? (sameJob ? prev?.metrics : undefined),
    spanId: stageSpanId(run.metadata.uid, name),
    traced: prev?.traced,
  };
}

export function decide(input: ReconcileInput): ReconcileDecision {
  const { run, now } = input;
  const prev = run.status ?? {};
  const spec = resolveSpec(run.spec, run.metadata.name);
  const byStage = new Map<string, V1Job[]>();
  for (const job of input.jobs) {
    const stage = job.metadata?.labels?.[Label.Stage];
    if (stage) byStage.set(stage, [...(byStage.get(stage) ?? []), job]);
  }
  const observations = new Map(spec.stages.map((s) => [s.name, observeStage(byStage.get(s.name) ?? [], input.pods, input.events ?? [])]));
  const plan = evaluatePlan({
    stages: spec.stages,
    retry: spec.retry,
    attempts: new Map([...observations].map(([k, v]) => [k, v.attempts])),
    now,
    suspend: spec.suspend,
    startTime: toDate(prev.startTime),
    activeDeadlineSeconds: spec.activeDeadlineSeconds,
    startTimeoutSeconds: spec.startTimeoutSeconds,
    previous: { phase: prev.phase, reason: prev.reason, message: prev.message },
    specProblems: specProblems(spec),
  });

  const actions: Action[] = [];
  for (const s of plan.start) {
    const stage = spec.stages.find((x) => x.name === s.stage)!;
    const job = buildJob(run, spec, stage, { attempt: s.attempt, deadlineSeconds: s.deadlineSeconds, suspend: false, createdBy: input.identity });
    actions.push({ type: 'createJob', stage: s.stage, attempt: s.attempt, job });
  }
  // Cancelling suspends the Job: its pods stop, and the Job stays (until the run is deleted) for inspection.
  for (const c of plan.cancel) {
    const rec = observations.get(c.stage)?.attempts.find((a) => a.attempt === c.attempt);
    if (!rec?.suspended) actions.push({ type: 'suspendJob', stage: c.stage, name: jobName(run.metadata.name, c.stage, c.attempt), suspend: true });
  }
  for (const c of plan.setSuspended) {
    actions.push({ type: 'suspendJob', stage: c.stage, name: jobName(run.metadata.name, c.stage, c.attempt), suspend: c.suspend });
  }

  const { traceId, rootSpanId } = runTraceIds(run.metadata.uid);
  const finished = isFinished(plan.phase);
  const status: RunStatus = {
    observedGeneration: run.metadata.generation,
    phase: plan.phase,
    progress: progressOf(plan),
    startTime: finished ? (prev.startTime ?? iso(plan.startTime)) : iso(plan.startTime),
    completionTime: finished ? (prev.completionTime ?? completionOf(plan.stages.map((s) => s.finishTime), plan.phase === RunPhase.Succeeded, now)) : undefined,
    reason: plan.reason,
    message: plan.message.slice(0, 2048),
    conditions: conditionsFor(prev.conditions, plan.phase, plan.reason, plan.message.slice(0, 1024), run.metadata.generation, now),
    stages: spec.stages.map((s) => stageStatus(run, spec, plan, s.name, observations.get(s.name), prev.stages?.find((p) => p.name === s.name))),
    traceparent: formatTraceparent(traceId, rootSpanId),
    traced: prev.traced,
    rollout: prev.rollout,
  };

  const spans: SpanRecord[] = [];
  for (const s of status.stages ?? []) {
    const span = s.traced ? undefined : stageSpan(s, { traceId, rootSpanId });
    if (!span) continue;
    spans.push(span);
    s.traced = true;
  }
  if (finished && !status.traced) {
    spans.push(runSpan(run, status, { traceId, rootSpanId }, now));
    status.traced = true;
  }

  let requeueAt = plan.requeueAt;
  if (plan.phase === RunPhase.Succeeded && spec.rollout && !prev.rollout) {
    const stage = spec.stages.find((s) => s.name === spec.rollout!.stage);
    if (stage) actions.push({ type: 'rollout', rollout: spec.rollout, model: stage.output });
  }
  if (finished && spec.ttlSecondsAfterFinished !== undefined) {
    const expires = new Date(new Date(status.completionTime!).getTime() + spec.ttlSecondsAfterFinished * 1000);
    if (now.getTime() >= expires.getTime()) actions.push({ type: 'deleteRun' });
    else requeueAt = expires;
  }
  const requeueAfterMs = requeueAt ? Math.max(0, requeueAt.getTime() - now.getTime()) + 100 : undefined;
  // Not normalized here: the reconciler still adds the rollout's outcome, then normalizes once.
  return { status, actions, spans, requeueAfterMs };
}

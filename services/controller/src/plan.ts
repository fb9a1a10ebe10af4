// The run plan as pure logic: given what each stage's attempts did and the clock, decide every stage's
// phase, which attempts to start, stop, suspend or resume, the run's phase, and when to look again.
// The operator feeds it Jobs and Pods (job-observation.ts); a local executor can feed it processes.
import type { RetrySpec } from './types.ts';
import { Reason, RunPhase, StagePhase, isFinished } from './types.ts';
import { readyStages, validateGraph } from './plan-graph.ts';

/** What one attempt of a stage did; `attempt` counts from 1. */
export interface AttemptRecord {
  attempt: number;
  state: 'active' | 'succeeded' | 'failed';
  suspended?: boolean;
  startedAt?: Date;
  finishedAt?: Date;
  exitCode?: number;
  /** The failure says never retry (a non-retryable exit code caught by the pod failure policy, a deadline). */
  nonRetryable?: boolean;
  reason?: string;
  message?: string;
  /** An active attempt whose pod has not started yet, and why (FailedCreate, Unschedulable, ImagePullBackOff, ...). */
  notStarted?: { reason: string; message: string };
}

export interface PlanStage {
  name: string;
  dependsOn: string[];
  activeDeadlineSeconds?: number;
}

export interface PlanInput {
  stages: readonly PlanStage[];
  retry: RetrySpec;
  /** Attempts per stage name, in any order. */
  attempts: ReadonlyMap<string, readonly AttemptRecord[]>;
  now: Date;
  suspend: boolean;
  /** When the run started running (cleared while suspended); the run deadline counts from here. */
  startTime?: Date;
  activeDeadlineSeconds?: number;
  /** An attempt not started this long after it was made fails its stage with the reason (none: wait for the deadlines). */
  startTimeoutSeconds?: number;
  /** The run's phase as last recorded; Succeeded and Failed are final. */
  previous?: { phase?: RunPhase; reason?: string; message?: string };
  /** Problems with the spec that the caller found beyond the stage graph (checked here); any fails the run as InvalidSpec. */
  specProblems?: readonly string[];
}

export interface StagePlanStatus {
  name: string;
  phase: StagePhase;
  attempts: number;
  startTime?: Date;
  finishTime?: Date;
  nextAttemptTime?: Date;
  lastExitCode?: number;
  reason?: string;
  message?: string;
}

export interface StartAttempt {
  stage: string;
  attempt: number;
  /** Seconds this attempt may run before a stage or run deadline; undefined when neither is set. */
  deadlineSeconds?: number;
}

export interface PlanEvaluation {
  phase: RunPhase;
  reason: Reason;
  message: string;
  startTime?: Date;
  stages: StagePlanStatus[];
  start: StartAttempt[];
  cancel: { stage: string; attempt: number }[];
  setSuspended: { stage: string; attempt: number; suspend: boolean }[];
  /** The earliest moment the clock alone changes the plan (a backoff ends, a deadline passes). */
  requeueAt?: Date;
  succeeded: number;
  total: number;
}

export const progressOf = (e: Pick<PlanEvaluation, 'succeeded' | 'total'>): string => `${e.succeeded}/${e.total}`;

/** Delay before attempt `failures + 1`: backoff doubled per failure, capped. */
export function backoffSeconds(retry: RetrySpec, failures: number): number {
  const raw = retry.backoffSeconds * 2 ** Math.max(0, failures - 1);
  return Math.min(raw, retry.maxBackoffSeconds);
}

const addSeconds = (d: Date, s: number): Date => new Date(d.getTime() + s * 1000);
const earliest = (a: Date | undefined, b: Date | undefined): Date | undefined =>
  !a ? b : !b ? a : a.getTime() <= b.getTime() ? a : b;

function describeFailure(a: AttemptRecord): string {
  const parts = [a.exitCode !== undefined ? `exit code ${a.exitCode}` : undefined, a.reason, a.message].filter(Boolean);
  return parts.join(': ') || 'failed';
}

interface StageEval {
  status: StagePlanStatus;
  active?: AttemptRecord;
  /** The next attempt's number when the stage may start one now. */
  startable?: number;
  wakeAt?: Date;
}

function evaluateStage(stage: PlanStage, attempts: readonly AttemptRecord[], input: PlanInput): StageEval {
  const sorted = [...attempts].sort((a, b) => a.attempt - b.attempt);
  const last = sorted[sorted.length - 1];
  const status: StagePlanStatus = {
    name: stage.name,
    phase: StagePhase.Pending,
    attempts: last?.attempt ?? 0,
    startTime: sorted[0]?.startedAt,
    lastExitCode: [...sorted].reverse().find((a) => a.exitCode !== undefined)?.exitCode,
  };
  if (!last) return { status };
  const deadline = stage.activeDeadlineSeconds !== undefined && status.startTime
    ? addSeconds(status.startTime, stage.activeDeadlineSeconds) : undefined;
  const pastDeadline = deadline !== undefined && input.now.getTime() >= deadline.getTime();

  if (last.state === 'succeeded') {
    return { status: { ...status, phase: StagePhase.Succeeded, finishTime: last.finishedAt, reason: 'Completed' } };
  }
  if (last.state === 'active') {
    if (pastDeadline) {
      return { status: { ...status, phase: StagePhase.Failed, finishTime: input.now, reason: Reason.DeadlineExceeded,
        message: `stage ${stage.name} ran past its ${stage.activeDeadlineSeconds}s deadline` }, active: last };
    }
    const waiting = last.suspended ? undefined : last.notStarted;
    if (waiting && input.startTimeoutSeconds !== undefined && last.startedAt) {
      const giveUp = addSeconds(last.startedAt, input.startTimeoutSeconds);
      if (input.now.getTime() >= giveUp.getTime()) {
        return { status: { ...status, phase: StagePhase.Failed, finishTime: input.now, reason: waiting.reason,
          message: `attempt ${last.attempt} did not start within ${input.startTimeoutSeconds}s: ${waiting.message}` }, active: last };
      }
      return { status: { ...status, phase: StagePhase.Running, reason: waiting.reason, message: waiting.message }, active: last, wakeAt: earliest(deadline, giveUp) };
    }
    return { status: { ...status, phase: last.suspended ? StagePhase.Suspended : StagePhase.Running, reason: waiting?.reason, message: waiting?.message },
      active: last, wakeAt: deadline };
  }
  // The last attempt failed.
  const failed = { ...status, finishTime: last.finishedAt ?? input.now };
  if (last.nonRetryable || (last.exitCode !== undefined && input.retry.nonRetryableExitCodes.includes(last.exitCode))) {
    const reason = last.reason === Reason.DeadlineExceeded ? Reason.DeadlineExceeded : Reason.NonRetryableExitCode;
    return { status: { ...failed, phase: StagePhase.Failed, reason, message: `attempt ${last.attempt}: ${describeFailure(last)}` } };
  }
  if (pastDeadline) {
    return { status: { ...failed, phase: StagePhase.Failed, reason: Reason.DeadlineExceeded,
      message: `stage ${stage.name} ran past its ${stage.activeDeadlineSeconds}s deadline` } };
  }
  if (last.attempt > input.retry.limit) {
    return { status: { ...failed, phase: StagePhase.Failed, reason: Reason.BackoffLimitExceeded,
      message: `failed ${last.attempt} attempt(s), retry limit ${input.retry.limit}; last: ${describeFailure(last)}` } };
  }
  const next = addSeconds(last.finishedAt ?? input.now, backoffSeconds(input.retry, last.attempt));
  const retrying: StagePlanStatus = { ...status, phase: StagePhase.Retrying, nextAttemptTime: next,
    reason: last.reason ?? 'AttemptFailed', message: `attempt ${last.attempt}: ${describeFailure(last)}` };
  if (input.now.getTime() >= next.getTime()) return { status: retrying, startable: last.attempt + 1 };
  return { status: retrying, wakeAt: earliest(next, deadline) };
}

function remainingSeconds(until: Date | undefined, now: Date): number | undefined {
  if (!until) return undefined;
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}

/** Decides the next step of a run. Deterministic for a given input. */
export function evaluatePlan(input: PlanInput): PlanEvaluation {
  const total = input.stages.length;
  const out: PlanEvaluation = {
    phase: RunPhase.Pending, reason: Reason.Created, message: '', startTime: input.startTime,
    stages: [], start: [], cancel: [], setSuspended: [], succeeded: 0, total,
  };
  const problems = [...validateGraph(input.stages).map((p) => `${p.field}: ${p.message}`), ...(input.specProblems ?? [])];
  const prev = input.previous;
  const evals = input.stages.map((s) => evaluateStage(s, input.attempts.get(s.name) ?? [], input));
  const byName = new Map(evals.map((e) => [e.status.name, e]));
  out.stages = evals.map((e) => e.status);
  out.succeeded = evals.filter((e) => e.status.phase === StagePhase.Succeeded).length;
  const activeAttempts = evals.filter((e) => e.active).map((e) => ({ stage: e.status.name, attempt: e.active!.attempt }));

  const finish = (phase: RunPhase, reason: Reason, message: string): PlanEvaluation => {
    out.phase = phase;
    out.reason = reason;
    out.message = message;
    out.cancel = activeAttempts;
    for (const s of out.stages) {
      if (s.phase !== StagePhase.Succeeded && s.phase !== StagePhase.Failed) {
        s.phase = StagePhase.Cancelled;
        s.nextAttemptTime = undefined;
        s.reason = Reason.RunFinished;
        s.message = `run ${phase.toLowerCase()}`;
        if (s.attempts > 0) s.finishTime = s.finishTime ?? input.now;
      }
    }
    return out;
  };

  if (prev?.phase && isFinished(prev.phase)) {
    return finish(prev.phase, (prev.reason as Reason) ?? Reason.RunFinished, prev.message ?? '');
  }
  if (problems.length > 0) {
    return finish(RunPhase.Failed, Reason.InvalidSpec, problems.join('; '));
  }
  const failedStage = evals.find((e) => e.status.phase === StagePhase.Failed);
  if (failedStage) {
    const s = failedStage.status;
    return finish(RunPhase.Failed, s.reason === Reason.DeadlineExceeded ? Reason.DeadlineExceeded : Reason.StageFailed,
      `stage ${s.name} failed (${s.reason}): ${s.message ?? ''}`.trim());
  }
  const runDeadline = input.activeDeadlineSeconds !== undefined && input.startTime
    ? addSeconds(input.startTime, input.activeDeadlineSeconds) : undefined;
  if (runDeadline && input.now.getTime() >= runDeadline.getTime()) {
    return finish(RunPhase.Failed, Reason.DeadlineExceeded, `run ran past its ${input.activeDeadlineSeconds}s deadline`);
  }
  if (out.succeeded === total) {
    out.phase = RunPhase.Succeeded;
    out.reason = Reason.AllStagesSucceeded;
    out.message = `all ${total} stages succeeded`;
    return out;
  }

  let wake: Date | undefined = runDeadline;
  for (const e of evals) wake = earliest(wake, e.wakeAt);

  if (input.suspend) {
    out.phase = RunPhase.Suspended;
    out.reason = Reason.Suspended;
    out.message = 'spec.suspend is true';
    out.startTime = undefined;
    for (const e of evals) {
      if (e.active && !e.active.suspended) out.setSuspended.push({ stage: e.status.name, attempt: e.active.attempt, suspend: true });
      if (e.active) e.status.phase = StagePhase.Suspended;
    }
    // Backoffs keep running, but nothing starts, and deadlines pause.
    out.requeueAt = undefined;
    return out;
  }

  const startTime = input.startTime ?? input.now;
  out.startTime = startTime;
  const runDeadlineAt = input.activeDeadlineSeconds !== undefined ? addSeconds(startTime, input.activeDeadlineSeconds) : undefined;
  for (const e of evals) {
    if (e.active?.suspended) out.setSuspended.push({ stage: e.status.name, attempt: e.active.attempt, suspend: false });
  }
  const done = (n: string): boolean => byName.get(n)?.status.phase === StagePhase.Succeeded;
  const started = (n: string): boolean => (byName.get(n)?.status.attempts ?? 0) > 0;
  const starts: { e: StageEval; attempt: number }[] = readyStages(input.stages, done, started)
    .map((n) => ({ e: byName.get(n)!, attempt: 1 }));
  for (const e of evals) if (e.startable) starts.push({ e, attempt: e.startable });
  for (const { e, attempt } of starts) {
    const stage = input.stages.find((s) => s.name === e.status.name)!;
    const stageStart = e.status.startTime ?? input.now;
    const stageDeadline = stage.activeDeadlineSeconds !== undefined ? addSeconds(stageStart, stage.activeDeadlineSeconds) : undefined;
    out.start.push({ stage: stage.name, attempt, deadlineSeconds: remainingSeconds(earliest(stageDeadline, runDeadlineAt), input.now) });
    Object.assign(e.status, { phase: StagePhase.Running, attempts: attempt, nextAttemptTime: undefined,
      startTime: e.status.startTime ?? input.now, reason: undefined, message: undefined });
  }
  for (const e of evals) {
    if (e.status.phase === StagePhase.Pending) {
      const waiting = (input.stages.find((s) => s.name === e.status.name)?.dependsOn ?? []).filter((d) => !done(d));
      e.status.reason = Reason.WaitingForStages;
      e.status.message = `waiting for ${waiting.join(', ')}`;
    }
  }
  const anyStarted = evals.some((e) => e.status.attempts > 0);
  out.phase = anyStarted ? RunPhase.Running : RunPhase.Pending;
  out.reason = anyStarted ? Reason.JobsRunning : Reason.Created;
  const running = out.stages.filter((s) => s.phase === StagePhase.Running).map((s) => s.name);
  const retrying = out.stages.filter((s) => s.phase === StagePhase.Retrying).map((s) => s.name);
  out.message = [running.length ? `running: ${running.join(', ')}` : '', retrying.length ? `retrying: ${retrying.join(', ')}` : '']
    .filter(Boolean).join('; ');
  out.requeueAt = wake ?? runDeadlineAt;
  return out;
}

// Turns the Jobs and Pods of one stage into the plan's attempt records, plus what the status shows
// about the current attempt (job, pod, node, the trainer's progress and final metrics).
import type { CoreV1Event, V1Job, V1JobCondition, V1Pod } from '@kubernetes/client-node';
import type { AttemptRecord } from './plan.ts';
import type { TrainerProgress } from './types.ts';
import { Annotation, Label, Reason, TRAINER_CONTAINER } from './types.ts';
import { parseMetrics, parseProgress } from './trainer-report.ts';
import { podReason, podStarted } from './pod-reasons.ts';

/** Times arrive as strings from a watch and as Dates from a typed list; accept both. */
export function toDate(v: unknown): Date | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v;
  if (typeof v === 'string' && v) {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return undefined;
}

export interface CurrentAttempt {
  job: string;
  pod?: string;
  node?: string;
  progress?: TrainerProgress;
  metrics?: Record<string, number>;
}

export interface StageObservation {
  attempts: AttemptRecord[];
  current?: CurrentAttempt;
}

const condition = (job: V1Job, type: string): V1JobCondition | undefined =>
  job.status?.conditions?.find((c) => c.type === type && c.status === 'True');

export const attemptOf = (job: V1Job): number => Number(job.metadata?.labels?.[Label.Attempt] ?? 0);

function latestPod(job: V1Job, pods: readonly V1Pod[]): V1Pod | undefined {
  const name = job.metadata?.name;
  const uid = job.metadata?.uid;
  const mine = pods.filter((p) =>
    p.metadata?.ownerReferences?.some((o) => o.kind === 'Job' && (o.uid === uid || o.name === name)));
  return mine.sort((a, b) => (toDate(a.metadata?.creationTimestamp)?.getTime() ?? 0) - (toDate(b.metadata?.creationTimestamp)?.getTime() ?? 0)).at(-1);
}

function terminated(pod: V1Pod | undefined) {
  const cs = pod?.status?.containerStatuses?.find((c) => c.name === TRAINER_CONTAINER);
  return cs?.state?.terminated ?? cs?.lastState?.terminated;
}

/** The newest FailedCreate event of the Job (the only place a Job says it cannot make its pod). */
function failedCreate(job: V1Job, events: readonly CoreV1Event[]): CoreV1Event | undefined {
  const mine = events.filter((e) => e.involvedObject?.kind === 'Job' && e.involvedObject.name === job.metadata?.name
    && (!e.involvedObject.uid || e.involvedObject.uid === job.metadata?.uid) && e.reason === 'FailedCreate');
  const time = (e: CoreV1Event): number => toDate(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp)?.getTime() ?? 0;
  return mine.sort((a, b) => time(a) - time(b)).at(-1);
}

/** Why an active attempt's pod has not started; undefined once a container ran. */
function notStarted(job: V1Job, pod: V1Pod | undefined, events: readonly CoreV1Event[]): AttemptRecord['notStarted'] {
  if (pod && podStarted(pod)) return undefined;
  const why = pod ? podReason(pod) : undefined;
  if (why) return { reason: why.reason, message: why.message };
  const event = pod ? undefined : failedCreate(job, events);
  if (event) return { reason: 'FailedCreate', message: (event.message ?? '').slice(0, 900) };
  return pod
    ? { reason: 'Starting', message: `pod ${pod.metadata?.name} is ${pod.status?.phase ?? 'Pending'}` }
    : { reason: 'Starting', message: `waiting for Job ${job.metadata?.name} to create its pod` };
}

export function observeAttempt(job: V1Job, pods: readonly V1Pod[], events: readonly CoreV1Event[] = []): { record: AttemptRecord; pod?: V1Pod } {
  const pod = latestPod(job, pods);
  const term = terminated(pod);
  const record: AttemptRecord = {
    attempt: attemptOf(job),
    state: 'active',
    startedAt: toDate(job.metadata?.creationTimestamp),
    exitCode: term?.exitCode,
    suspended: job.spec?.suspend === true,
  };
  const complete = condition(job, 'Complete');
  const failed = condition(job, 'Failed');
  if (!complete && !failed && !record.suspended) record.notStarted = notStarted(job, pod, events);
  if (complete) {
    record.state = 'succeeded';
    record.finishedAt = toDate(job.status?.completionTime) ?? toDate(complete.lastTransitionTime);
  } else if (failed) {
    record.state = 'failed';
    record.finishedAt = toDate(failed.lastTransitionTime);
    record.reason = failed.reason;
    record.message = failed.message?.slice(0, 512);
    if (failed.reason === 'PodFailurePolicy') {
      record.nonRetryable = true;
      record.reason = Reason.NonRetryableExitCode;
    } else if (failed.reason === 'DeadlineExceeded') {
      record.nonRetryable = true;
      record.reason = Reason.DeadlineExceeded;
    } else if (term?.exitCode !== undefined) {
      record.reason = term.reason ?? 'Error';
    }
  }
  return { record, pod };
}

/** All attempts of one stage (its Jobs, matched by label) and the details of the newest. */
export function observeStage(jobs: readonly V1Job[], pods: readonly V1Pod[], events: readonly CoreV1Event[] = []): StageObservation {
  const sorted = [...jobs].sort((a, b) => attemptOf(a) - attemptOf(b));
  const attempts: AttemptRecord[] = [];
  let current: CurrentAttempt | undefined;
  for (const job of sorted) {
    const { record, pod } = observeAttempt(job, pods, events);
    attempts.push(record);
    const term = terminated(pod);
    current = {
      job: job.metadata?.name ?? '',
      pod: pod?.metadata?.name,
      node: pod?.spec?.nodeName,
      progress: parseProgress(pod?.metadata?.annotations?.[Annotation.Progress]),
      metrics: parseMetrics(term?.message),
    };
  }
  return { attempts, current };
}

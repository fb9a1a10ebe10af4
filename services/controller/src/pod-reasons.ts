// Why a pod is not running (or not ready), read from what the scheduler and the kubelet write on it:
// the PodScheduled condition, init and main container waiting and terminated states, the Ready
// condition. Used for training Jobs and serving Deployments alike, so every reason a stage's pod
// cannot be scheduled, pulled or started reaches the owner's status.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

export interface PodReason {
  reason: string;
  message: string;
  /** A failure that will not pass by waiting (a bad image, a crash loop, a missing secret, a failed init step). */
  hard: boolean;
}

/** Waiting reasons that are the normal way up, not a problem. */
const STARTING = new Set(['ContainerCreating', 'PodInitializing']);
const HARD = new Set([
  'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CrashLoopBackOff',
  'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'PreCreateHookError', 'PostStartHookError',
]);
const MAX_MESSAGE = 900;

const clip = (s: string): string => (s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE - 3)}...` : s);

function containerReason(cs: V1ContainerStatus, what: string): PodReason | undefined {
  const waiting = cs.state?.waiting;
  const last = cs.lastState?.terminated;
  const lastText = last ? `; last exit code ${last.exitCode}${last.message ? `: ${last.message.trim()}` : ''}` : '';
  if (waiting?.reason && !STARTING.has(waiting.reason)) {
    return { reason: waiting.reason, message: clip(`${what}: ${waiting.message ?? waiting.reason}${lastText}`), hard: HARD.has(waiting.reason) };
  }
  const term = cs.state?.terminated;
  if (term && term.exitCode !== 0) {
    return { reason: term.reason ?? 'Error', message: clip(`${what} exited with code ${term.exitCode}${term.message ? `: ${term.message.trim()}` : ''}`), hard: true };
  }
  return undefined;
}

/** Why the pod is not up; undefined when it runs (or is on its normal way up). */
export function podReason(pod: V1Pod): PodReason | undefined {
  if (pod.metadata?.deletionTimestamp) return undefined;
  const conditions = pod.status?.conditions ?? [];
  const scheduled = conditions.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    return { reason: scheduled.reason ?? 'Unschedulable', message: clip(`pod ${pod.metadata?.name}: ${scheduled.message ?? 'not scheduled'}`), hard: false };
  }
  for (const cs of pod.status?.initContainerStatuses ?? []) {
    const r = containerReason(cs, `pod ${pod.metadata?.name} init container ${cs.name}`);
    if (r) return r;
  }
  for (const cs of pod.status?.containerStatuses ?? []) {
    const r = containerReason(cs, `pod ${pod.metadata?.name} container ${cs.name}`);
    if (r) return r;
  }
  if (pod.status?.phase === 'Failed') {
    return { reason: pod.status.reason ?? 'Failed', message: clip(`pod ${pod.metadata?.name}: ${pod.status.message ?? 'failed'}`), hard: true };
  }
  return undefined;
}

/** True once a container of the pod runs or has run (the stage has started). */
export function podStarted(pod: V1Pod): boolean {
  return (pod.status?.containerStatuses ?? []).some((cs) => cs.state?.running || cs.state?.terminated || cs.lastState?.terminated);
}

export function podReady(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

// A Stack's status from what runs it (pure): per stage its desired, ready and updated replicas, the
// model (URI and version) its ready pods serve, and why it is not ready (the Deployment's ReplicaFailure and progress
// deadline, its pods' scheduling and container states); the router's replicas; conditions Ready,
// Progressing and Degraded; "ready/total" stages for `kubectl get stacks`.
import type { V1Deployment, V1DeploymentCondition, V1Pod } from '@kubernetes/client-node';
import type { Stack, StackConditionRecord, StackConditionType, StackStageStatus, StackStatus } from './stack-types.ts';
import { childName, resolveServing, type ServingProfile } from './stack-serving.ts';
import { podReady, podReason } from './pod-reasons.ts';
import { StackAnnotation, StackCondition, StackLabel } from './stack-types.ts';
import { FETCH_CONTAINER } from './stack-builder.ts';

export interface StackObservation {
  stack: Stack;
  /** The Stack's Deployments by name (stages and router). */
  deployments: ReadonlyMap<string, V1Deployment>;
  /** The Stack's pods (every stage and the router). */
  pods: readonly V1Pod[];
  profile: ServingProfile;
  now: Date;
}

interface StageView {
  status: StackStageStatus;
  ready: boolean;
  degraded: boolean;
}

const cond = (d: V1Deployment | undefined, type: string): V1DeploymentCondition | undefined => d?.status?.conditions?.find((c) => c.type === type);

/** Every pod of the Deployment's current replicas has the new template, is ready, and no old pod is left. */
function rolledOut(d: V1Deployment | undefined, desired: number): boolean {
  const s = d?.status;
  return !!s && (s.observedGeneration ?? 0) >= (d!.metadata?.generation ?? 0)
    && (s.updatedReplicas ?? 0) === desired && (s.readyReplicas ?? 0) >= desired && (s.replicas ?? 0) === desired;
}

function deploymentView(name: string, d: V1Deployment | undefined, pods: readonly V1Pod[], desired: number): Omit<StageView, 'status'> & Pick<StackStageStatus, 'reason' | 'message'> {
  if (!d) return { ready: false, degraded: false, reason: 'Creating', message: `creating Deployment ${name}` };
  const ready = rolledOut(d, desired);
  const failure = cond(d, 'ReplicaFailure');
  if (failure?.status === 'True') return { ready, degraded: true, reason: failure.reason ?? 'ReplicaFailure', message: failure.message ?? '' };
  const why = pods.filter((p) => !podReady(p)).map(podReason).find((r) => r !== undefined);
  const progressing = cond(d, 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return { ready, degraded: true, reason: why?.reason ?? 'ProgressDeadlineExceeded',
      message: `${why ? `${why.message}; ` : ''}not ready within its start timeout (${progressing.message ?? ''})` };
  }
  if (why) return { ready, degraded: why.hard, reason: why.reason, message: why.message };
  if (ready) return { ready, degraded: false, reason: 'Ready', message: `${desired}/${desired} replicas ready` };
  const s = d.status ?? {};
  const rolling = (s.updatedReplicas ?? 0) < desired || (s.replicas ?? 0) > desired;
  return { ready, degraded: false, reason: rolling ? 'RollingOut' : 'Starting',
    message: `${s.readyReplicas ?? 0}/${desired} replicas ready, ${s.updatedReplicas ?? 0} updated` };
}

/** The one model every ready pod serves; undefined while they serve different ones (or none is ready). */
function servedModel(pods: readonly V1Pod[]): string | undefined {
  const models = new Set(pods.filter(podReady).map((p) => p.metadata?.annotations?.[StackAnnotation.Model] ?? ''));
  return models.size === 1 ? [...models][0] || undefined : undefined;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The model version a pod's fetch step reported: the `version` of the JSON termination message of its
 * init container (`fslm model fetch --termination-message`), when it completed with exit code 0; the
 * message is untrusted text, so anything but a lowercase hex sha256 there counts as none.
 */
export function fetchedVersion(pod: V1Pod): string | undefined {
  const fetch = pod.status?.initContainerStatuses?.find((c) => c.name === FETCH_CONTAINER);
  const done = fetch?.state?.terminated;
  if (!done || done.exitCode !== 0 || !done.message) return undefined;
  try {
    const version = (JSON.parse(done.message) as { version?: unknown })?.version;
    return typeof version === 'string' && SHA256.test(version) ? version : undefined;
  } catch {
    return undefined;
  }
}

/** The one version every ready pod reported; undefined while they differ, one reported none, or none is ready. */
function servedVersion(pods: readonly V1Pod[]): string | undefined {
  const versions = new Set(pods.filter(podReady).map((p) => fetchedVersion(p) ?? ''));
  return versions.size === 1 ? [...versions][0] || undefined : undefined;
}

function stageView(o: StackObservation, stageName: string): StageView {
  const stage = o.stack.spec.stages.find((s) => s.name === stageName)!;
  const name = childName(o.stack.metadata.name, stageName);
  const d = o.deployments.get(name);
  const pods = o.pods.filter((p) => p.metadata?.labels?.[StackLabel.Stage] === stageName);
  const desired = resolveServing(o.stack, stage, o.profile).replicas;
  const v = deploymentView(name, d, pods, desired);
  return {
    ready: v.ready,
    degraded: v.degraded,
    status: {
      name: stageName, deployment: name, replicas: desired,
      readyReplicas: d?.status?.readyReplicas ?? 0, updatedReplicas: d?.status?.updatedReplicas ?? 0,
      model: servedModel(pods), modelVersion: servedVersion(pods), reason: v.reason, message: v.message?.slice(0, 1024),
    },
  };
}

function setCondition(list: StackConditionRecord[], next: Omit<StackConditionRecord, 'lastTransitionTime'>, now: Date): StackConditionRecord[] {
  const old = list.find((c) => c.type === next.type);
  const lastTransitionTime = old && old.status === next.status ? old.lastTransitionTime : now.toISOString();
  return [...list.filter((c) => c.type !== next.type), { ...next, lastTransitionTime }];
}

const ORDER: StackConditionType[] = [StackCondition.Ready, StackCondition.Progressing, StackCondition.Degraded];

export function stackStatus(o: StackObservation): StackStatus {
  const { stack, now } = o;
  const generation = stack.metadata.generation;
  const views = stack.spec.stages.map((s) => stageView(o, s.name));
  const routerName = childName(stack.metadata.name, 'router');
  const routerDeployment = o.deployments.get(routerName);
  const routerDesired = stack.spec.router?.replicas ?? 1;
  const routerPods = o.pods.filter((p) => p.metadata?.labels?.[StackLabel.Component] === 'router');
  const router = deploymentView(routerName, routerDeployment, routerPods, routerDesired);
  const readyCount = views.filter((v) => v.ready).length;
  const notReady = [...views.filter((v) => !v.ready).map((v) => ({ name: `stage ${v.status.name}`, reason: v.status.reason, message: v.status.message, degraded: v.degraded })),
    ...(router.ready ? [] : [{ name: 'router', reason: router.reason, message: router.message, degraded: router.degraded }])];
  const degraded = notReady.filter((n) => n.degraded);
  const describe = (list: typeof notReady): string => list.map((n) => `${n.name}: ${n.reason}: ${n.message}`).join('; ').slice(0, 4096);

  let conditions = stack.status?.conditions ?? [];
  const set = (type: StackConditionType, on: boolean, reason: string, message: string): void => {
    conditions = setCondition(conditions, { type, status: on ? 'True' : 'False', reason, message, observedGeneration: generation }, now);
  };
  set(StackCondition.Ready, notReady.length === 0,
    notReady.length === 0 ? 'AllStagesReady' : notReady[0].reason ?? 'NotReady',
    notReady.length === 0 ? `${views.length} stages and the router are ready` : describe(notReady));
  const progressing = notReady.filter((n) => !n.degraded);
  set(StackCondition.Progressing, progressing.length > 0,
    progressing.length > 0 ? 'RollingOut' : degraded.length > 0 ? 'Stalled' : 'Complete',
    progressing.length > 0 ? describe(progressing) : '');
  set(StackCondition.Degraded, degraded.length > 0, degraded.length > 0 ? degraded[0].reason ?? 'Degraded' : 'AsExpected', describe(degraded));
  conditions.sort((a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type));

  return {
    observedGeneration: generation,
    readyStages: `${readyCount}/${views.length}`,
    conditions,
    stages: views.map((v) => v.status),
    router: {
      deployment: routerName, service: routerName, replicas: routerDesired, readyReplicas: routerDeployment?.status?.readyReplicas ?? 0,
    },
  };
}

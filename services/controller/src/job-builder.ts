// Builds the batch/v1 Job for one attempt of one stage: owned by the run (deletion cascades),
// labelled, placed on GPU nodes, with a pod failure policy and the trainer's environment contract.
import { createHash } from 'node:crypto';
import type { V1EnvVar, V1Job, V1PodFailurePolicyRule, V1PodSecurityContext, V1Volume } from '@kubernetes/client-node';
import type { ResolvedSpec, ResolvedStage } from './defaults.ts';
import type { StackTrainingRun } from './types.ts';
import { API_VERSION, Annotation, KIND, Label, MANAGED_BY, TRAINER_CONTAINER } from './types.ts';
import { formatTraceparent, runTraceIds, stageSpanId } from './trace-context.ts';
import { trainerEnv, userEnv } from './trainer-env.ts';

/** Kubernetes caps label values (and so Job names, which become a pod label) at 63 characters. */
const MAX_NAME = 63;

/** `<run>-<stage>-<attempt>`, shortened with a hash when it would be too long. Deterministic, so creating it twice is a no-op. */
export function jobName(run: string, stage: string, attempt: number): string {
  const full = `${run}-${stage}-${attempt}`;
  if (full.length <= MAX_NAME) return full;
  const hash = createHash('sha256').update(`${run}/${stage}`).digest('hex').slice(0, 8);
  const tail = `-${hash}-${attempt}`;
  return `${full.slice(0, MAX_NAME - tail.length).replace(/[-.]+$/, '')}${tail}`;
}

export interface JobBuildOptions {
  attempt: number;
  /** Seconds left before the stage's or the run's deadline. */
  deadlineSeconds?: number;
  suspend: boolean;
  createdBy: string;
}

function env(run: StackTrainingRun, stage: ResolvedStage, traceparent: string): V1EnvVar[] {
  const fixed: V1EnvVar[] = [
    ...trainerEnv({ run: run.metadata.name, namespace: run.metadata.namespace, stage, traceparent }),
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  ];
  // User env comes first so the contract's variables always win.
  return [...userEnv(stage, new Set(fixed.map((e) => e.name))), ...fixed];
}

const quantities = (q: Record<string, string | number> | undefined): Record<string, string> | undefined =>
  q ? Object.fromEntries(Object.entries(q).map(([k, v]) => [k, String(v)])) : undefined;

function failurePolicy(spec: ResolvedSpec): V1PodFailurePolicyRule[] {
  return [
    // Exit codes that must never be retried fail the Job at once; the controller then fails the stage.
    { action: 'FailJob', onExitCodes: { containerName: TRAINER_CONTAINER, operator: 'In', values: [...spec.retry.nonRetryableExitCodes].sort((a, b) => a - b) } },
    // Evictions, preemptions and node drains are not the trainer's fault: run the pod again, uncounted.
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
  ];
}

export function buildJob(run: StackTrainingRun, spec: ResolvedSpec, stage: ResolvedStage, opts: JobBuildOptions): V1Job {
  const { traceId } = runTraceIds(run.metadata.uid);
  const traceparent = formatTraceparent(traceId, stageSpanId(run.metadata.uid, stage.name));
  const t = spec.template;
  const labels = {
    ...(t.labels ?? {}),
    [Label.ManagedBy]: MANAGED_BY,
    [Label.Run]: run.metadata.name,
    [Label.Stage]: stage.name,
    [Label.Attempt]: String(opts.attempt),
  };
  const annotations = { [Annotation.Traceparent]: traceparent };
  if (!stage.image) throw new Error(`stage ${stage.name} has no image (set spec.template.image or the stage's image)`);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(run.metadata.name, stage.name, opts.attempt),
      namespace: run.metadata.namespace,
      labels,
      annotations: { ...annotations, [Annotation.CreatedBy]: opts.createdBy },
      ownerReferences: [{ apiVersion: API_VERSION, kind: KIND, name: run.metadata.name, uid: run.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      // Retries are the controller's (one Job per attempt, with the run's own backoff), so the Job runs its pod once.
      backoffLimit: 0,
      completions: 1,
      parallelism: 1,
      suspend: opts.suspend,
      activeDeadlineSeconds: opts.deadlineSeconds,
      podFailurePolicy: { rules: failurePolicy(spec) },
      podReplacementPolicy: 'Failed',
      template: {
        metadata: { labels, annotations: { ...(t.annotations ?? {}), ...annotations } },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: t.serviceAccountName,
          nodeSelector: t.nodeSelector,
          tolerations: t.tolerations,
          securityContext: t.securityContext as V1PodSecurityContext | undefined,
          volumes: t.volumes as V1Volume[] | undefined,
          containers: [{
            name: TRAINER_CONTAINER,
            image: stage.image,
            imagePullPolicy: t.imagePullPolicy,
            command: stage.command,
            args: stage.args.length > 0 ? stage.args : undefined,
            env: env(run, stage, traceparent),
            envFrom: t.envFrom,
            volumeMounts: t.volumeMounts,
            resources: { limits: quantities(stage.resources.limits), requests: quantities(stage.resources.requests) },
            terminationMessagePolicy: 'FallbackToLogsOnError',
          }],
        },
      },
    },
  };
}

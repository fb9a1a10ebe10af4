// Fixture builders for the controller's unit tests: runs, stage Jobs in each state, and their Pods.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { RunSpec, StackTrainingRun, StageSpec } from '../../src/types.ts';
import { API_VERSION, Annotation, KIND, Label, TRAINER_CONTAINER } from '../../src/types.ts';
import { jobName } from '../../src/job-builder.ts';

export const T0 = new Date('2026-01-01T00:00:00Z');
export const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

export function stage(name: string, dependsOn: string[] = [], extra: Partial<StageSpec> = {}): StageSpec {
  return { name, dependsOn, baseModel: 'EleutherAI/pythia-160m', dataset: `file:///data/${name}.jsonl`, ...extra };
}

export class RunBuilder {
  private readonly run: StackTrainingRun;

  constructor(name = 'demo', stages: StageSpec[] = [stage('a'), stage('b', ['a'])]) {
    this.run = {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name, namespace: 'ns', uid: `uid-${name}`, generation: 1, resourceVersion: '1', creationTimestamp: T0.toISOString() },
      spec: { stages, template: { image: 'trainer:1' }, retry: { limit: 2, backoffSeconds: 10, maxBackoffSeconds: 60, nonRetryableExitCodes: [2] } },
    };
  }

  spec(patch: Partial<RunSpec>): this {
    Object.assign(this.run.spec, patch);
    return this;
  }

  status(status: StackTrainingRun['status']): this {
    this.run.status = status;
    return this;
  }

  build(): StackTrainingRun {
    return structuredClone(this.run);
  }
}

export type JobState = 'active' | 'succeeded' | 'failed' | 'policy-failed' | 'deadline' | 'suspended';

/** A stage Job as the job controller leaves it; times in seconds after T0. */
export function job(run: StackTrainingRun, stageName: string, attempt: number, state: JobState, opts: { created?: number; finished?: number } = {}): V1Job {
  const name = jobName(run.metadata.name, stageName, attempt);
  const created = at(opts.created ?? 0).toISOString();
  const finished = at(opts.finished ?? (opts.created ?? 0) + 5).toISOString();
  const cond = (type: string, reason: string) => [{ type, status: 'True', reason, message: `${reason} happened`, lastTransitionTime: finished as unknown as Date }];
  const status: V1Job['status'] =
    state === 'succeeded' ? { succeeded: 1, completionTime: finished as unknown as Date, conditions: cond('Complete', '') }
      : state === 'failed' ? { failed: 1, conditions: cond('Failed', 'BackoffLimitExceeded') }
        : state === 'policy-failed' ? { failed: 1, conditions: cond('Failed', 'PodFailurePolicy') }
          : state === 'deadline' ? { failed: 1, conditions: cond('Failed', 'DeadlineExceeded') }
            : { active: state === 'active' ? 1 : 0 };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name, namespace: run.metadata.namespace, uid: `job-${name}`, creationTimestamp: created as unknown as Date,
      labels: { [Label.Run]: run.metadata.name, [Label.Stage]: stageName, [Label.Attempt]: String(attempt) },
      ownerReferences: [{ apiVersion: API_VERSION, kind: KIND, name: run.metadata.name, uid: run.metadata.uid, controller: true }],
    },
    spec: { template: {}, suspend: state === 'suspended' },
    status,
  };
}

/** The Pod of a stage Job, optionally finished with an exit code, a progress annotation and a termination message. */
export function pod(j: V1Job, opts: { exitCode?: number; progress?: object; message?: string; node?: string } = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${j.metadata!.name}-x1`, namespace: j.metadata!.namespace, creationTimestamp: j.metadata!.creationTimestamp,
      labels: { ...j.metadata!.labels },
      annotations: opts.progress ? { [Annotation.Progress]: JSON.stringify(opts.progress) } : {},
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: j.metadata!.name!, uid: j.metadata!.uid! }],
    },
    spec: { nodeName: opts.node ?? 'gpu-0', containers: [{ name: TRAINER_CONTAINER }] },
    status: opts.exitCode === undefined ? { phase: 'Running' } : {
      phase: opts.exitCode === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: [{ name: TRAINER_CONTAINER, image: 'trainer:1', imageID: '', ready: false, restartCount: 0,
        state: { terminated: { exitCode: opts.exitCode, message: opts.message } } }],
    },
  };
}

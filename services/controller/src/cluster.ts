// What the reconciler needs from the world: reads from the informers' caches, writes to the API
// server. cluster-k8s.ts is the real one; unit tests use an in-memory stand-in.
import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import type { RunStatus, StackTrainingRun } from './types.ts';

export interface Cluster {
  /** The cached run, or undefined when it is gone. */
  getRun(namespace: string, name: string): StackTrainingRun | undefined;
  /** Cached Jobs controlled by the run (matched by owner uid). */
  jobsOf(run: StackTrainingRun): V1Job[];
  /** Cached Pods of the run's Jobs. */
  podsOf(run: StackTrainingRun): V1Pod[];
  /** Cached FailedCreate events of the run's Jobs. */
  jobEventsOf(run: StackTrainingRun): CoreV1Event[];
  /** Creates the Job; 'exists' when one of that name is already there (creation is idempotent by name). */
  createJob(job: V1Job): Promise<'created' | 'exists'>;
  setJobSuspended(namespace: string, name: string, suspend: boolean): Promise<void>;
  /** Writes the status subresource; throws a ConflictError when the run changed since it was read. */
  updateRunStatus(run: StackTrainingRun, status: RunStatus): Promise<void>;
  /** Deletes the run (its Jobs and Pods follow by garbage collection), only if its uid still matches. */
  deleteRun(run: StackTrainingRun): Promise<void>;
  /** The stage names of a Stack, in order, read from the API server; undefined when it does not exist. */
  stackStages(namespace: string, name: string): Promise<string[] | undefined>;
  /** Sets the model of the stage at `index`, which must still be named `stage` (else a ConflictError). */
  setStackStageModel(namespace: string, name: string, index: number, stage: string, model: string): Promise<void>;
}

/** The run changed on the server since it was read; reconcile again from the fresh copy. */
export class ConflictError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

// An in-memory Cluster for reconciler unit tests: it records writes, and `create` makes a Job that
// stays active until the test replaces it (e.g. with a finished one from builders.ts).
import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import type { Cluster } from '../../src/cluster.ts';
import type { RunStatus, StackTrainingRun } from '../../src/types.ts';
import { ConflictError } from '../../src/cluster.ts';

export class ClusterFake implements Cluster {
  runs = new Map<string, StackTrainingRun>();
  jobs = new Map<string, V1Job>();
  pods: V1Pod[] = [];
  /** Stacks by namespace/name: their stage names and the models set by rollouts. */
  stacks = new Map<string, { stages: string[]; models: Record<string, string> }>();
  statusWrites = 0;
  createCalls = 0;
  suspended: { name: string; suspend: boolean }[] = [];
  deleted: string[] = [];
  /** When set, the next status write fails with a conflict. */
  conflictNext = false;
  /** When set, the next jobsOf lists none, as an informer that has not seen a new Job yet. */
  hideJobsNext = false;

  put(run: StackTrainingRun): void {
    this.runs.set(`${run.metadata.namespace}/${run.metadata.name}`, structuredClone(run));
  }

  getRun(namespace: string, name: string): StackTrainingRun | undefined {
    const r = this.runs.get(`${namespace}/${name}`);
    return r && structuredClone(r);
  }

  jobsOf(run: StackTrainingRun): V1Job[] {
    if (this.hideJobsNext) {
      this.hideJobsNext = false;
      return [];
    }
    return [...this.jobs.values()].filter((j) => j.metadata?.ownerReferences?.some((o) => o.uid === run.metadata.uid));
  }

  podsOf(): V1Pod[] {
    return this.pods;
  }

  events: CoreV1Event[] = [];

  jobEventsOf(): CoreV1Event[] {
    return this.events;
  }

  async createJob(job: V1Job): Promise<'created' | 'exists'> {
    this.createCalls++;
    const name = job.metadata!.name!;
    if (this.jobs.has(name)) return 'exists';
    this.jobs.set(name, { ...structuredClone(job), metadata: { ...structuredClone(job.metadata), uid: `job-${name}`, creationTimestamp: new Date() }, status: { active: 1 } });
    return 'created';
  }

  async setJobSuspended(_ns: string, name: string, suspend: boolean): Promise<void> {
    this.suspended.push({ name, suspend });
    const j = this.jobs.get(name);
    if (j?.spec) j.spec.suspend = suspend;
  }

  async updateRunStatus(run: StackTrainingRun, status: RunStatus): Promise<void> {
    if (this.conflictNext) {
      this.conflictNext = false;
      throw new ConflictError('conflict');
    }
    const key = `${run.metadata.namespace}/${run.metadata.name}`;
    const cur = this.runs.get(key);
    if (!cur || cur.metadata.resourceVersion !== run.metadata.resourceVersion) throw new ConflictError('stale');
    this.statusWrites++;
    this.runs.set(key, { ...cur, status: structuredClone(status), metadata: { ...cur.metadata, resourceVersion: String(Number(cur.metadata.resourceVersion) + 1) } });
  }

  async deleteRun(run: StackTrainingRun): Promise<void> {
    this.deleted.push(run.metadata.name);
    this.runs.delete(`${run.metadata.namespace}/${run.metadata.name}`);
  }

  async stackStages(ns: string, name: string): Promise<string[] | undefined> {
    return this.stacks.get(`${ns}/${name}`)?.stages;
  }

  async setStackStageModel(ns: string, name: string, index: number, stage: string, model: string): Promise<void> {
    const stack = this.stacks.get(`${ns}/${name}`)!;
    if (stack.stages[index] !== stage) throw new ConflictError('the stage moved');
    stack.models[stage] = model;
  }
}

// Reconcile for StackTrainingRun, in the usual fixed shape: get the run (stop if gone), decide
// (reconcile-run.ts, pure), apply the actions, export finished spans, write status only if it
// changed, and return when to look again.
import { isDeepStrictEqual } from 'node:util';
import type { Cluster } from './cluster.ts';
import type { SpanSink } from './span-sink.ts';
import type { RunStatus, StackTrainingRun } from './types.ts';
import { ControllerMetrics } from './metrics.ts';
import { applyRollout } from './rollout.ts';
import { decide } from './reconcile-run.ts';
import { normalize } from './status-common.ts';
import { noopSpanSink } from './span-sink.ts';
import { ConflictError } from './cluster.ts';
import { StagePhase } from './types.ts';

const CONFLICT_REQUEUE_MS = 200;
/** Spans exported by this process, so a status write that loses a race does not export them twice. */
const EXPORTED_MEMORY = 10_000;

export type Logger = (msg: string, fields?: Record<string, unknown>) => void;

export interface RunReconcilerOptions {
  cluster: Cluster;
  identity: string;
  spans?: SpanSink;
  metrics?: ControllerMetrics;
  log?: Logger;
  now?: () => Date;
}

export class RunReconciler {
  private readonly cluster: Cluster;
  private readonly identity: string;
  private readonly spans: SpanSink;
  private readonly metrics: ControllerMetrics;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly exported = new Set<string>();

  constructor(opts: RunReconcilerOptions) {
    this.cluster = opts.cluster;
    this.identity = opts.identity;
    this.spans = opts.spans ?? noopSpanSink;
    this.metrics = opts.metrics ?? new ControllerMetrics();
    this.log = opts.log ?? (() => {});
    this.now = opts.now ?? (() => new Date());
  }

  /** Reconciles the run `namespace/name`; resolves with a requeue delay, if the clock matters. */
  async reconcile(key: string): Promise<{ requeueAfterMs?: number }> {
    const [namespace, name] = key.split('/');
    const run = this.cluster.getRun(namespace, name);
    if (!run || run.metadata.deletionTimestamp) return {};
    const started = performance.now();
    try {
      const result = await this.reconcileRun(run);
      this.metrics.reconciles.add(1, { result: 'ok', kind: 'StackTrainingRun' });
      return result;
    } catch (e) {
      if (e instanceof ConflictError) {
        // Our cached copy is older than the server's (often our own last write); the watch brings the new one.
        this.metrics.reconciles.add(1, { result: 'conflict', kind: 'StackTrainingRun' });
        return { requeueAfterMs: CONFLICT_REQUEUE_MS };
      }
      this.metrics.reconciles.add(1, { result: 'error', kind: 'StackTrainingRun' });
      throw e;
    } finally {
      this.metrics.reconcileSeconds.record((performance.now() - started) / 1000);
    }
  }

  private async reconcileRun(run: StackTrainingRun): Promise<{ requeueAfterMs?: number }> {
    const key = `${run.metadata.namespace}/${run.metadata.name}`;
    const now = this.now();
    // Runs come from the API as plain JSON (no undefined fields), so the cached status compares as it is.
    const before: RunStatus = run.status ?? {};
    const d = decide({ run, jobs: this.cluster.jobsOf(run), pods: this.cluster.podsOf(run), events: this.cluster.jobEventsOf(run), now, identity: this.identity });
    const status: RunStatus = d.status;

    for (const a of d.actions) {
      switch (a.type) {
        case 'createJob': {
          const result = await this.cluster.createJob(a.job);
          if (result === 'created') {
            this.metrics.jobsCreated.add(1, { stage: a.stage });
            if (a.attempt > 1) this.metrics.retries.add(1, { stage: a.stage });
            this.log('created job', { run: key, stage: a.stage, attempt: a.attempt, job: a.job.metadata?.name });
          }
          break;
        }
        case 'suspendJob':
          await this.cluster.setJobSuspended(run.metadata.namespace, a.name, a.suspend);
          this.log(a.suspend ? 'suspended job' : 'resumed job', { run: key, stage: a.stage, job: a.name });
          break;
        case 'rollout':
          status.rollout = await applyRollout(this.cluster, run.metadata.namespace, a.rollout, a.model, now);
          this.log('rollout', { run: key, ...status.rollout });
          break;
        case 'deleteRun':
          this.log('ttlSecondsAfterFinished passed; deleting run', { run: key });
          await this.cluster.deleteRun(run);
          return {};
      }
    }

    const fresh = d.spans.filter((s) => !this.exported.has(`${s.traceId}/${s.spanId}`));
    if (fresh.length > 0) this.spans.export(fresh);
    for (const s of fresh) {
      this.exported.add(`${s.traceId}/${s.spanId}`);
      if (this.exported.size > EXPORTED_MEMORY) this.exported.delete(this.exported.values().next().value!);
      if (!s.stage) continue;
      const st = status.stages?.find((x) => x.name === s.stage);
      this.metrics.stageSeconds.record((s.end.getTime() - s.start.getTime()) / 1000, { phase: st?.phase ?? StagePhase.Failed });
    }

    const next = normalize(status);
    if (!isDeepStrictEqual(before, next)) {
      await this.cluster.updateRunStatus(run, next);
      this.metrics.statusPatches.add(1);
      if (before.phase !== next.phase) this.log('run phase', { run: key, from: before.phase ?? '', to: next.phase, reason: next.reason, message: next.message });
    }
    return { requeueAfterMs: d.requeueAfterMs };
  }
}

// The local executor: the operator's plan (plan.ts) run as local processes on one machine. Each loop
// evaluates the plan from the attempts so far and the clock, stops what it cancels, starts what it
// starts (at most `parallel` at once), writes the status when it changed, and sleeps until a process
// ends, the trainer reports, a backoff or deadline passes, or the user interrupts.
import { randomUUID } from 'node:crypto';
import type { ResolvedSpec, ResolvedStage } from './defaults.ts';
import type { AttemptRecord, PlanEvaluation, StartAttempt } from './plan.ts';
import type { RunPhase, RunStatus, StackTrainingRun } from './types.ts';
import { RunPhase as Phase, StagePhase, isFinished } from './types.ts';
import { evaluatePlan } from './plan.ts';
import type { RunningAttempt } from './local-attempt.ts';
import type { LocalRunStore } from './local-store.ts';
import { localStatus, type StageReport } from './local-status.ts';

export const LocalReason = {
  /** The run was stopped by a signal (Ctrl-C). */
  Interrupted: 'Interrupted',
  /** The stage may start but --parallel slots are all taken. */
  WaitingForSlot: 'WaitingForSlot',
} as const;

/** Progress reports wake the loop at most this often (status.json is rewritten on each wake that changes it). */
export const PROGRESS_WRITE_INTERVAL_MS = 250;

export type LaunchAttempt = (stage: ResolvedStage, start: StartAttempt, onReport: () => void) => Promise<RunningAttempt>;

export interface LocalExecutorOptions {
  run: StackTrainingRun;
  /** The spec with local outputs, base models, datasets. */
  spec: ResolvedSpec;
  store: LocalRunStore;
  launch: LaunchAttempt;
  /** Most attempts running at once; Infinity starts every ready stage. */
  parallel: number;
  log?: (line: string) => void;
}

export class LocalExecutor {
  private readonly attempts = new Map<string, AttemptRecord[]>();
  private readonly live = new Map<string, RunningAttempt>();
  private readonly reports = new Map<string, StageReport>();
  private final?: { phase: RunPhase; reason: string; message: string };
  private status?: RunStatus;
  private wake?: () => void;
  private pending = false;
  private progressTimer?: NodeJS.Timeout;
  readonly run: StackTrainingRun;

  constructor(private readonly opts: LocalExecutorOptions) {
    const meta = opts.run.metadata;
    this.run = { ...opts.run, metadata: { ...meta, uid: meta.uid || randomUUID(), creationTimestamp: meta.creationTimestamp ?? new Date().toISOString() } };
  }

  /**
   * Stops every running attempt and fails the run with reason Interrupted. Once the run is ending
   * (a second Ctrl-C, or processes still stopping after a failure), kills what is left at once.
   */
  interrupt(signal: string): void {
    if (this.final) {
      for (const handle of this.live.values()) handle.kill();
      return;
    }
    this.final = { phase: Phase.Failed, reason: LocalReason.Interrupted, message: `interrupted by ${signal}` };
    this.poke();
  }

  /** Runs the plan to the end; resolves with the run and its final status. */
  async execute(): Promise<StackTrainingRun> {
    const spec = this.opts.spec;
    for (;;) {
      const now = new Date();
      const plan = evaluatePlan({
        stages: spec.stages, retry: spec.retry, attempts: this.attempts, now, suspend: false,
        startTime: this.status?.startTime ? new Date(this.status.startTime) : undefined,
        activeDeadlineSeconds: spec.activeDeadlineSeconds, previous: this.final,
      });
      if (isFinished(plan.phase)) this.final = { phase: plan.phase, reason: plan.reason, message: plan.message };
      for (const c of plan.cancel) this.live.get(c.stage)?.stop(`run ${plan.phase.toLowerCase()}: ${plan.message}`.slice(0, 512));
      await this.startAttempts(plan);
      this.describeStopped(plan);
      await this.writeStatus(plan, now);
      // Done once nothing runs and nothing happened since this evaluation (a process may end while the status is written).
      if (isFinished(plan.phase) && this.live.size === 0 && !this.pending) {
        clearTimeout(this.progressTimer);
        return { ...this.run, status: this.status };
      }
      // The plan is only stale, not stuck, when an attempt ended after it was evaluated (this.pending).
      if (!isFinished(plan.phase) && this.live.size === 0 && !this.pending && plan.start.length === 0 && !plan.requeueAt) {
        throw new Error(`run ${this.run.metadata.name} cannot make progress (phase ${plan.phase}: ${plan.message})`);
      }
      await this.sleep(plan.requeueAt);
    }
  }

  private async startAttempts(plan: PlanEvaluation): Promise<void> {
    const deferred: string[] = [];
    for (const start of plan.start) {
      const ps = plan.stages.find((s) => s.name === start.stage)!;
      if (this.live.size >= this.opts.parallel) {
        deferred.push(start.stage);
        Object.assign(ps, { phase: start.attempt > 1 ? StagePhase.Retrying : StagePhase.Pending, attempts: start.attempt - 1,
          reason: LocalReason.WaitingForSlot, message: `waiting for a free slot (--parallel ${this.opts.parallel})` });
        continue;
      }
      const stage = this.opts.spec.stages.find((s) => s.name === start.stage)!;
      const handle = await this.opts.launch(stage, start, () => this.pokeProgress());
      const list = this.attempts.get(stage.name) ?? [];
      list.push({ attempt: start.attempt, state: 'active', startedAt: handle.startedAt });
      this.attempts.set(stage.name, list);
      this.live.set(stage.name, handle);
      this.reports.set(stage.name, {});
      this.opts.log?.(`${stage.name}: attempt ${start.attempt} started (pid ${handle.pid ?? '-'})`);
      void handle.done.then((record) => {
        list[list.findIndex((a) => a.attempt === record.attempt)] = record;
        this.reports.set(stage.name, { progress: handle.progress, metrics: handle.metrics });
        this.live.delete(stage.name);
        const how = record.state === 'succeeded' ? 'succeeded' : record.suspended ? 'stopped'
          : `failed (${[record.exitCode !== undefined ? `exit code ${record.exitCode}` : '', record.reason, record.message].filter(Boolean).join(': ')})`;
        this.opts.log?.(`${stage.name}: attempt ${record.attempt} ${how}`);
        this.poke();
      });
    }
    if (deferred.length > 0) {
      const running = plan.stages.filter((s) => s.phase === StagePhase.Running).map((s) => s.name);
      plan.message = [running.length ? `running: ${running.join(', ')}` : '', `waiting for a slot: ${deferred.join(', ')}`].filter(Boolean).join('; ');
    }
  }

  /** A stage whose attempt was stopped says so, instead of only "run failed". */
  private describeStopped(plan: PlanEvaluation): void {
    for (const ps of plan.stages) {
      const last = this.attempts.get(ps.name)?.at(-1);
      if (ps.phase === StagePhase.Cancelled && last?.suspended && last.message) ps.message = `attempt ${last.attempt} stopped: ${last.message}`;
    }
  }

  private async writeStatus(plan: PlanEvaluation, now: Date): Promise<void> {
    for (const [name, handle] of this.live) this.reports.set(name, { progress: handle.progress, metrics: handle.metrics });
    const next = localStatus({ run: this.run, spec: this.opts.spec, plan, attempts: this.attempts, reports: this.reports, previous: this.status, now });
    if (JSON.stringify(next) === JSON.stringify(this.status)) return;
    const before = new Map((this.status?.stages ?? []).map((s) => [s.name, `${s.phase}/${s.attempts}`]));
    for (const s of next.stages ?? []) {
      if (before.get(s.name) !== `${s.phase}/${s.attempts}`) this.opts.log?.(`${s.name}: ${s.phase}${s.attempts ? ` (attempt ${s.attempts})` : ''}${s.reason && s.phase !== StagePhase.Running ? ` ${s.reason}` : ''}`);
    }
    if (this.status?.phase !== next.phase) this.opts.log?.(`run ${this.run.metadata.name}: ${next.phase} ${next.progress}${next.message ? ` (${next.message})` : ''}`);
    this.status = next;
    await this.opts.store.write({ ...this.run, status: next });
  }

  private poke(): void {
    this.pending = true;
    this.wake?.();
  }

  private pokeProgress(): void {
    if (this.progressTimer) return;
    this.progressTimer = setTimeout(() => {
      this.progressTimer = undefined;
      this.poke();
    }, PROGRESS_WRITE_INTERVAL_MS);
  }

  private async sleep(until: Date | undefined): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = until ? setTimeout(resolve, Math.max(0, until.getTime() - Date.now()) + 20) : undefined;
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
    this.pending = false;
  }
}

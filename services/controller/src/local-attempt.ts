// One attempt of one stage as a local process: the local executor's stand-in for a Job and its Pod.
// The trainer's stdout is read as JSON lines (progress reports, then its result with metrics) and,
// with stderr, written to the attempt's log. The process runs in its own process group so a stop
// (cancel, Ctrl-C) or a deadline reaches anything it started, and it is tied to this process (it gets
// SIGTERM if `fslm train` dies, SIGKILL included). Ends as the plan's AttemptRecord.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { spawnTied } from '../../shared/process-lifetime.ts';
import type { AttemptRecord } from './plan.ts';
import type { TrainerProgress } from './types.ts';
import { Reason } from './types.ts';
import { MAX_REPORT_CHARS, metricsFromReport, parseReport, progressFromReport } from './trainer-report.ts';

/** After SIGTERM, how long a stopped attempt gets before SIGKILL. */
export const DEFAULT_KILL_GRACE_MS = 5000;
/** A command that cannot be started counts as this exit code, like a shell's "command not found". */
export const START_ERROR_EXIT_CODE = 127;

export interface AttemptSpec {
  stage: string;
  attempt: number;
  /** argv: the program, then its arguments. */
  command: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Where the trainer writes its termination message (FSLM_TERMINATION_LOG), as in a Pod. */
  terminationFile: string;
  /** Seconds before the attempt is stopped and failed with DeadlineExceeded (never retried). */
  deadlineSeconds?: number;
  killGraceMs?: number;
}

export interface RunningAttempt {
  readonly stage: string;
  readonly attempt: number;
  readonly startedAt: Date;
  readonly pid: number | undefined;
  readonly progress: TrainerProgress | undefined;
  readonly metrics: Record<string, number> | undefined;
  /** Resolves once the process and its output are done. */
  readonly done: Promise<AttemptRecord>;
  /** Stops the attempt (SIGTERM to its group, SIGKILL after the grace); it ends as a suspended record. */
  stop(why: string): void;
  /** SIGKILL to its group now, without a grace (a second Ctrl-C). */
  kill(): void;
}

const lastLine = (text: string): string | undefined =>
  text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1)?.slice(0, 512);

/**
 * Reads one stdout line of the trainer: `{"event":"step"|"eval",...}` lines are progress (merged into
 * the last report), other events are ignored, and the one line without `event` is its result, whose
 * `metrics` are kept.
 */
export function readTrainerLine(line: string, last?: TrainerProgress): { progress?: TrainerProgress; metrics?: Record<string, number> } {
  const text = line.trim();
  // Most lines are plain log output: skip them without a JSON.parse.
  const obj = text.startsWith('{') ? parseReport(text) : undefined;
  if (!obj) return {};
  if (obj.event === 'step' || obj.event === 'eval') {
    const p = progressFromReport(obj);
    return p ? { progress: { ...last, ...p } } : {};
  }
  const metrics = obj.event === undefined ? metricsFromReport(obj.metrics) : undefined;
  return metrics ? { metrics } : {};
}

/** The trainer's termination message (FSLM_TERMINATION_LOG): final metrics, or `{"error"}` on failure. */
async function readTermination(file: string): Promise<{ metrics?: Record<string, number>; error?: string }> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (!text) return {};
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return {};
  }
  const reported = (obj as { error?: unknown } | null)?.error;
  const error = typeof reported === 'string' ? reported.slice(0, 512) : undefined;
  return { error, metrics: error || text.trim().length > MAX_REPORT_CHARS ? undefined : metricsFromReport(obj) };
}

export async function startAttempt(spec: AttemptSpec, onChange: () => void): Promise<RunningAttempt> {
  await mkdir(path.dirname(spec.logFile), { recursive: true });
  const log = createWriteStream(spec.logFile, { flags: 'a' });
  await rm(spec.terminationFile, { force: true });
  const startedAt = new Date();
  const env = { ...spec.env, FSLM_TERMINATION_LOG: spec.terminationFile };
  const child = spawnTied(spec.command[0], spec.command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let progress: TrainerProgress | undefined;
  let metrics: Record<string, number> | undefined;
  let stderrTail = '';
  let stopped: { why: string; deadline: boolean } | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;

  const signalGroup = (sig: NodeJS.Signals): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  };
  const stop = (why: string, deadline = false): void => {
    if (stopped) return;
    stopped = { why, deadline };
    signalGroup('SIGTERM');
    killTimer = setTimeout(() => signalGroup('SIGKILL'), spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
  };
  if (spec.deadlineSeconds !== undefined) {
    deadlineTimer = setTimeout(() => stop(`attempt ran past its ${spec.deadlineSeconds}s deadline`, true), spec.deadlineSeconds * 1000);
  }

  createInterface({ input: child.stdout! }).on('line', (line) => {
    log.write(`${line}\n`);
    const report = readTrainerLine(line, progress);
    if (report.progress) progress = report.progress;
    if (report.metrics) metrics = report.metrics;
    if (report.progress || report.metrics) onChange();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4096);
  });

  const done = new Promise<AttemptRecord>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (e) => { spawnError = e; });
    child.once('close', async (code, signal) => {
      clearTimeout(killTimer);
      clearTimeout(deadlineTimer);
      const term = await readTermination(spec.terminationFile);
      metrics = term.metrics ?? metrics;
      const base = { attempt: spec.attempt, startedAt, finishedAt: new Date() };
      let record: AttemptRecord;
      if (stopped?.deadline) {
        record = { ...base, state: 'failed', nonRetryable: true, reason: Reason.DeadlineExceeded, message: stopped.why,
          exitCode: code ?? undefined };
      } else if (stopped) {
        record = { ...base, state: 'active', suspended: true, reason: 'Stopped', message: stopped.why };
      } else if (spawnError) {
        record = { ...base, state: 'failed', exitCode: START_ERROR_EXIT_CODE, reason: 'StartError', message: spawnError.message.slice(0, 512) };
      } else if (code === 0) {
        record = { ...base, state: 'succeeded', exitCode: 0 };
      } else {
        const exitCode = code ?? 128 + (constants.signals[signal as keyof typeof constants.signals] ?? 0);
        record = { ...base, state: 'failed', exitCode, reason: 'Error',
          message: signal ? `killed by ${signal}` : term.error ?? lastLine(stderrTail) ?? `exit code ${exitCode}` };
      }
      log.end(() => resolve(record));
    });
  });

  return {
    stage: spec.stage,
    attempt: spec.attempt,
    startedAt,
    pid: child.pid,
    get progress() { return progress; },
    get metrics() { return metrics; },
    done,
    stop: (why) => stop(why),
    kill: () => {
      stop('killed');
      signalGroup('SIGKILL');
    },
  };
}

// Composition root of `fslm train --local RUN.yaml` and `fslm status [RUN]`: reads the flags and the
// run file, resolves the run for this machine, wires the executor to real trainer processes and the
// state directory, and turns Ctrl-C into a recorded, orderly stop. services/cli/main.ts calls these.
import path from 'node:path';
import { errors, errorMessage } from '../../shared/errors.ts';
import { resolveSpec } from './defaults.ts';
import type { StackTrainingRun } from './types.ts';
import { KIND, RunPhase } from './types.ts';
import { loadRunFile } from './run-file.ts';
import { LocalRunStore } from './local-store.ts';
import { checkRunStack } from './local-stack.ts';
import { resolveBaseModels, scriptModels } from './local-models.ts';
import { attemptCommand, attemptEnv, localizeSpec } from './local-stage.ts';
import { startAttempt } from './local-attempt.ts';
import { LocalExecutor, LocalReason } from './local-executor.ts';
import { exportLocalRunSpans } from './local-spans.ts';
import { parseStatusConfig, parseTrainConfig, STATUS_USAGE, TRAIN_USAGE, type TrainConfig } from './local-config.ts';
import { runDetail, runsTable, type RunRow } from './status-table.ts';

const EXIT_INTERRUPTED = 130;

function usageError(e: unknown, usage: string): number {
  process.stderr.write(`${errorMessage(e)}\n${usage}\n`);
  return 2;
}

export interface TrainOutcome {
  /** The exit code of `fslm train`. */
  code: number;
  /** The run with its final status, once it ran. */
  run?: StackTrainingRun;
}

/** Runs RUN.yaml to the end with this process's signals wired to an orderly stop; reports problems on stderr. */
export async function trainLocal(config: TrainConfig, log: (line: string) => void): Promise<TrainOutcome> {
  let run: StackTrainingRun;
  try {
    run = await loadRunFile(config.file);
    if (run.spec.suspend) throw errors.invalidArgument(`${config.file}: spec.suspend is true: a local run starts nothing and cannot be resumed`, 'spec.suspend');
    await checkRunStack(run.spec, path.dirname(config.file)).catch((e) => {
      throw errors.invalidArgument(`${config.file}: ${errorMessage(e)}`, 'spec.stack');
    });
  } catch (e) {
    process.stderr.write(`fslm train: ${errorMessage(e)}\n`);
    return { code: 2 };
  }
  const name = run.metadata.name;
  const store = new LocalRunStore(config.stateDir);
  try {
    await store.claim(name, config.replace);
  } catch (e) {
    process.stderr.write(`fslm train: ${errorMessage(e)}\n`);
    return { code: 1 };
  }
  let executor: LocalExecutor | undefined;
  let stopSignal: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => () => {
    log(`${sig}: ${stopSignal ? 'killing what is left' : 'stopping every stage (again to kill at once)'}`);
    stopSignal ??= sig;
    executor?.interrupt(sig);
  };
  const sigint = onSignal('SIGINT');
  const sigterm = onSignal('SIGTERM');
  const sighup = onSignal('SIGHUP');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  process.on('SIGHUP', sighup);
  try {
    const baseDir = path.dirname(config.file);
    const resolved = resolveSpec(run.spec, name);
    const spec = config.baseModel === undefined ? resolved : { ...resolved, stages: resolved.stages.map((s) => ({ ...s, baseModel: config.baseModel! })) };
    if (config.baseModel !== undefined) log(`every stage trains base model ${config.baseModel} (FSLM_TRAIN_BASE_MODEL)`);
    const baseModels = await resolveBaseModels(spec.stages.map((s) => s.baseModel), baseDir, () => scriptModels(log));
    const local = localizeSpec(spec, name, { store, baseDir, baseModels });
    executor = new LocalExecutor({
      run, spec: local, store, parallel: config.parallel, log,
      launch: (stage, start, onReport) => startAttempt({
        stage: stage.name, attempt: start.attempt, command: attemptCommand(stage, config.python()),
        env: attemptEnv(executor!.run, stage, process.env), logFile: store.attemptLog(name, stage.name, start.attempt),
        terminationFile: store.terminationFile(name, stage.name, start.attempt),
        deadlineSeconds: start.deadlineSeconds, killGraceMs: config.killGraceMs,
      }, onReport),
    });
    if (stopSignal) executor.interrupt(stopSignal);
    log(`run ${name}: ${local.stages.length} stage(s), state ${store.runDir(name)}`);
    const done = await executor.execute();
    try {
      const exported = await exportLocalRunSpans(done, process.env);
      if (exported > 0) log(`exported ${exported} span(s), trace ${done.status?.traceparent?.split('-')[1]}`);
    } catch (e) {
      log(`warning: spans not exported: ${errorMessage(e)}`);
    }
    const code = done.status?.phase === RunPhase.Succeeded ? 0 : done.status?.reason === LocalReason.Interrupted ? EXIT_INTERRUPTED : 1;
    return { code, run: done };
  } catch (e) {
    process.stderr.write(`fslm train: ${errorMessage(e)}\n`);
    return { code: 1 };
  } finally {
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
    process.off('SIGHUP', sighup);
    await store.release(name).catch(() => {});
  }
}

/** `fslm train --local RUN.yaml [flags]`; resolves with the exit code. */
export async function runTrain(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseTrainConfig(argv);
  } catch (e) {
    return usageError(e, TRAIN_USAGE);
  }
  if ('help' in config) {
    process.stdout.write(`${TRAIN_USAGE}\n`);
    return 0;
  }
  const t0 = performance.now();
  const log = (line: string): void => { process.stderr.write(`[fslm train ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}\n`); };
  const { code, run } = await trainLocal(config, log);
  if (run) process.stdout.write(`${runDetail({ run, live: true }, new Date())}\n`);
  return code;
}

/** `fslm status [RUN] [--state-dir DIR] [--json]`. */
export async function runStatus(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseStatusConfig(argv);
  } catch (e) {
    return usageError(e, STATUS_USAGE);
  }
  if ('help' in config) {
    process.stdout.write(`${STATUS_USAGE}\n`);
    return 0;
  }
  const store = new LocalRunStore(config.stateDir);
  const row = async (name: string): Promise<RunRow | undefined> => {
    const run = await store.read(name);
    return run && { run, live: (await store.executor(name)) !== undefined };
  };
  const now = new Date();
  if (config.run) {
    const r = await row(config.run);
    if (!r) {
      process.stderr.write(`fslm status: no run ${config.run} in ${config.stateDir}\n`);
      return 1;
    }
    process.stdout.write(`${config.json ? JSON.stringify(r.run, null, 2) : runDetail(r, now)}\n`);
    return 0;
  }
  const rows = (await Promise.all((await store.listRuns()).map(row))).filter((r): r is RunRow => r !== undefined);
  if (config.json) {
    process.stdout.write(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rows.map((r) => r.run) }, null, 2)}\n`);
  } else if (rows.length === 0) {
    process.stderr.write(`No ${KIND} runs in ${config.stateDir}\n`);
  } else {
    process.stdout.write(`${runsTable(rows, now)}\n`);
  }
  return 0;
}

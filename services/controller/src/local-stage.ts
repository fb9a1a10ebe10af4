// How one stage attempt runs on this machine: the spec made local (each stage writes
// file://<state>/runs/<run>/<stage>/model, base models, datasets and the stack file as local-models.ts
// resolves them),
// the command (`fslm-trainer ...` runs as `<python> -m fslm_trainer ...`), and the environment: this
// process's, then the stage's env, then the trainer contract (trainer-env.ts), which always wins.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResolvedSpec, ResolvedStage } from './defaults.ts';
import type { StackTrainingRun } from './types.ts';
import type { LocalRunStore } from './local-store.ts';
import { formatTraceparent, runTraceIds, stageSpanId } from './trace-context.ts';
import { trainerEnv, userEnv } from './trainer-env.ts';
import { datasetUri } from './local-models.ts';

export const TRAINER_PROGRAM = 'fslm-trainer';
/** The trainer's sources in this checkout: the venv holds only its dependencies (scripts/lib.sh). */
export const TRAINER_SRC = fileURLToPath(new URL('../../trainer/src', import.meta.url));

export interface LocalizeOptions {
  store: LocalRunStore;
  /** Directory of the run file; relative paths in it are relative to here. */
  baseDir: string;
  /** Base model reference -> what the trainer gets (local-models.ts resolveBaseModels). */
  baseModels: ReadonlyMap<string, string>;
}

export function localizeSpec(spec: ResolvedSpec, runName: string, opts: LocalizeOptions): ResolvedSpec {
  return {
    ...spec,
    stages: spec.stages.map((s) => ({
      ...s,
      baseModel: opts.baseModels.get(s.baseModel) ?? s.baseModel,
      dataset: datasetUri(s.dataset, opts.baseDir),
      stack: s.stack === undefined ? undefined : datasetUri(s.stack, opts.baseDir),
      output: pathToFileURL(opts.store.modelDir(runName, s.name)).href,
    })),
  };
}

/** The argv of a stage's attempt. */
export function attemptCommand(stage: ResolvedStage, python: string): string[] {
  const [program, ...rest] = stage.command;
  const argv = [...rest, ...stage.args];
  return program === TRAINER_PROGRAM ? [python, '-m', 'fslm_trainer', ...argv] : [program, ...argv];
}

export function attemptEnv(run: StackTrainingRun, stage: ResolvedStage, parent: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { traceId } = runTraceIds(run.metadata.uid);
  const contract = trainerEnv({ run: run.metadata.name, namespace: run.metadata.namespace, stage,
    traceparent: formatTraceparent(traceId, stageSpanId(run.metadata.uid, stage.name)) });
  const env: NodeJS.ProcessEnv = { ...parent };
  for (const e of [...userEnv(stage, new Set(contract.map((c) => c.name))), ...contract]) env[e.name] = e.value;
  if (stage.command[0] === TRAINER_PROGRAM) {
    const rest = (env.PYTHONPATH ?? '').split(path.delimiter).filter((p) => p && p !== TRAINER_SRC);
    env.PYTHONPATH = [TRAINER_SRC, ...rest].join(path.delimiter);
  }
  return env;
}

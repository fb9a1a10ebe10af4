// `fslm trainer ...` and `fslm distill ...`: the Python trainer (services/trainer) run from this
// checkout with the venv scripts/setup builds, so one command line covers serving and training.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { onTerminationSignal, spawnTied } from '../shared/process-lifetime.ts';
import { trainerPython } from '../controller/src/local-config.ts';
import { TRAINER_SRC } from '../controller/src/local-stage.ts';

const SETUP = path.resolve(TRAINER_SRC, '../../../scripts/setup');
/** After a stop signal, how long the trainer gets to finish (e.g. write a checkpoint) before SIGKILL. */
export const TRAINER_STOP_GRACE_MS = 30_000;

/**
 * Runs `python -m fslm_trainer ARGV` and resolves with its exit code. The trainer is tied to this
 * process (it gets SIGTERM if this process dies, SIGKILL included), and a stop is bounded: SIGKILL
 * TRAINER_STOP_GRACE_MS after the first stop signal.
 */
export function runTrainerCli(argv: string[]): Promise<number> {
  return runPythonModule('fslm_trainer', argv);
}

/**
 * Runs `python -m MODULE ARGV` in the trainer's venv with this checkout's Python sources (the trainer's
 * and `sources`) first on PYTHONPATH, tied to this process and stopped as runTrainerCli describes.
 */
export async function runPythonModule(module: string, argv: string[], sources: string[] = [], extraEnv: Record<string, string> = {}): Promise<number> {
  const python = trainerPython(process.env);
  if (!existsSync(python)) {
    console.error(`fslm: the trainer's Python is not installed (${python}); run ${SETUP} first`);
    return 1;
  }
  const env = { ...process.env, ...extraEnv, PYTHONPATH: [...sources, TRAINER_SRC, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) };
  const child = spawnTied(python, ['-m', module, ...argv], { env, stdio: 'inherit' });
  // Ctrl-C reaches the trainer from the terminal (same process group) and it stops in order; this
  // process only waits for it. SIGTERM and SIGHUP, sent to this process alone, are passed on.
  let killTimer: NodeJS.Timeout | undefined;
  const removeHandler = onTerminationSignal((signal) => {
    if (signal !== 'SIGINT') child.kill(signal);
    killTimer ??= setTimeout(() => {
      console.error(`fslm: the trainer did not stop within ${TRAINER_STOP_GRACE_MS} ms of ${signal}; killing it`);
      child.kill('SIGKILL');
    }, TRAINER_STOP_GRACE_MS);
  });
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
    });
  } finally {
    clearTimeout(killTimer);
    removeHandler();
  }
}

export const runDistill = (argv: string[]): Promise<number> => runTrainerCli(['distill', ...argv]);

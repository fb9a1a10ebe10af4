// `fslm trainer ...` and `fslm distill ...`: the Python trainer (services/trainer) run from this
// checkout with the venv scripts/setup builds, so one command line covers serving and training.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { trainerPython } from '../controller/src/local-config.ts';
import { TRAINER_SRC } from '../controller/src/local-stage.ts';

const SETUP = path.resolve(TRAINER_SRC, '../../../scripts/setup');

/** Runs `python -m fslm_trainer ARGV` and resolves with its exit code. */
export async function runTrainerCli(argv: string[]): Promise<number> {
  const python = trainerPython(process.env);
  if (!existsSync(python)) {
    console.error(`fslm: the trainer's Python is not installed (${python}); run ${SETUP} first`);
    return 1;
  }
  const env = { ...process.env, PYTHONPATH: [TRAINER_SRC, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) };
  const child = spawn(python, ['-m', 'fslm_trainer', ...argv], { env, stdio: 'inherit' });
  // Ctrl-C reaches the trainer from the terminal (same process group) and it stops in order; this
  // process only waits for it. SIGTERM, sent to this process alone, is passed on.
  const ignore = () => undefined;
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', ignore).on('SIGTERM', forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
    });
  } finally {
    process.off('SIGINT', ignore).off('SIGTERM', forward);
  }
}

export const runDistill = (argv: string[]): Promise<number> => runTrainerCli(['distill', ...argv]);

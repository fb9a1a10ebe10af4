// `fslm eval ...`: the evaluation harness (services/eval, Python on lm-eval) run from this checkout
// with the trainer's venv. It starts `fslm stage` / `fslm up` processes itself with this Node.js.
import { fileURLToPath } from 'node:url';
import { runPythonModule } from './trainer.ts';

const EVAL_SRC = fileURLToPath(new URL('../eval/src', import.meta.url));

/** Runs `python -m fslm_eval ARGV` (see services/eval/README.md) and resolves with its exit code. */
export function runEval(argv: string[]): Promise<number> {
  return runPythonModule('fslm_eval', argv, [EVAL_SRC], { FSLM_NODE: process.execPath });
}

// PyTorch's log-probabilities for prompts and continuations on a model's HF weights (torch_logprobs.py
// in the trainer's venv), the reference that the engine's Score and generation logprobs are checked against.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './models.ts';

export type TorchCase =
  | { prompt: string; continuations: string[] }
  | { messages: Array<{ role: string; content: string }>; continuations: string[] }
  | { prompt_ids: number[]; continuation_ids: number[] };

export interface TorchScore {
  prompt_ids: number[];
  ids: number[];
  logprobs: number[];
  sum: number;
  greedy: boolean;
  top_ids: number[][];
  top_logprobs: number[][];
}

/** The trainer venv's Python (scripts/setup builds it). */
export function venvPython(): string {
  return execFileSync('bash', ['-c', `source ${JSON.stringify(path.join(REPO_ROOT, 'scripts/lib.sh'))}; echo "$FSLM_PY"`], { encoding: 'utf8' }).trim();
}

/** One list of scores per case, in order. Bounded: the helper is killed after `timeoutMs`. */
export function torchLogprobs(modelDir: string, cases: TorchCase[], top = 0, timeoutMs = 300_000): TorchScore[][] {
  const out = execFileSync(venvPython(), [path.join(REPO_ROOT, 'test/support/torch_logprobs.py')], {
    input: JSON.stringify({ model: modelDir, top, cases }), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 26,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return JSON.parse(out) as TorchScore[][];
}

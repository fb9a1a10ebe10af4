// Log-probabilities from a logits row: the model's own distribution at a position (log-softmax of the
// logits, before temperature, top-k, top-p or a repetition penalty shape sampling).
import { topCandidates } from './sampler.ts';
import type { TokenLogprob, TopLogprob } from './types.ts';

/** The most top-logprobs a request may ask for (as OpenAI's API). */
export const MAX_TOP_LOGPROBS = 20;

/** Text of one token id (special tokens as their text). */
export type TokenText = (id: number) => string;

/** log Σ exp(row), computed stably in double precision. */
export function logSumExp(row: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return max + Math.log(sum);
}

/**
 * The log-probability of `token` at a position whose logits are `row`, with the `top` most likely
 * tokens there. `row` is only read.
 */
export function tokenLogprob(row: Float32Array, token: number, top: number, text: TokenText): TokenLogprob {
  const logZ = logSumExp(row);
  const topLogprobs: TopLogprob[] = (top > 0 ? topCandidates(row, top) : []).map((id) => ({ tokenId: id, token: text(id), logprob: row[id] - logZ }));
  return { tokenId: token, token: text(token), logprob: row[token] - logZ, topLogprobs };
}

// Validates wire generation parameters (zero = default) into complete SamplingOptions.
import { errors } from '../../shared/errors.ts';
import { MAX_TOP_LOGPROBS } from './logprobs.ts';
import type { EngineLimits, SamplingOptions } from './types.ts';

export interface WireGenerationParams {
  max_new_tokens?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
  seed?: number | string | bigint | null;
  stop?: string[];
  logprobs?: boolean;
  top_logprobs?: number;
}

/** Checks a top_logprobs count (0 to MAX_TOP_LOGPROBS) and returns it. */
export function checkTopLogprobs(value: number | undefined, field: string): number {
  const v = finite(value, field);
  if (!Number.isInteger(v) || v < 0 || v > MAX_TOP_LOGPROBS) throw errors.invalidArgument(`${field} must be an integer from 0 to ${MAX_TOP_LOGPROBS}, got ${v}`, field);
  return v;
}

export const MAX_STOP_SEQUENCES = 16;
export const MAX_STOP_LENGTH = 256;

function finite(value: number | undefined, field: string): number {
  const v = value ?? 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw errors.invalidArgument(`${field} must be a finite number`, field);
  return v;
}

export function resolveSampling(params: WireGenerationParams | undefined, limits: EngineLimits): SamplingOptions {
  const p = params ?? {};
  const maxNewTokens = finite(p.max_new_tokens, 'params.max_new_tokens') || limits.defaultMaxNewTokens;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1 || maxNewTokens > limits.maxNewTokensLimit) {
    throw errors.invalidArgument(`params.max_new_tokens must be between 1 and ${limits.maxNewTokensLimit}, got ${maxNewTokens}`, 'params.max_new_tokens');
  }
  const temperature = finite(p.temperature, 'params.temperature');
  if (temperature < 0 || temperature > 10) throw errors.invalidArgument(`params.temperature must be in [0, 10], got ${temperature}`, 'params.temperature');
  const topK = finite(p.top_k, 'params.top_k');
  if (!Number.isInteger(topK) || topK < 0) throw errors.invalidArgument(`params.top_k must be a non-negative integer, got ${topK}`, 'params.top_k');
  const topP = finite(p.top_p, 'params.top_p') || 1;
  if (topP <= 0 || topP > 1) throw errors.invalidArgument(`params.top_p must be in (0, 1], got ${topP}`, 'params.top_p');
  const repetitionPenalty = finite(p.repetition_penalty, 'params.repetition_penalty') || 1;
  if (repetitionPenalty < 0.1 || repetitionPenalty > 10) {
    throw errors.invalidArgument(`params.repetition_penalty must be in [0.1, 10], got ${repetitionPenalty}`, 'params.repetition_penalty');
  }
  const stop = p.stop ?? [];
  if (stop.length > MAX_STOP_SEQUENCES) throw errors.invalidArgument(`at most ${MAX_STOP_SEQUENCES} stop sequences`, 'params.stop');
  stop.forEach((s, i) => {
    if (typeof s !== 'string' || s.length === 0 || s.length > MAX_STOP_LENGTH) {
      throw errors.invalidArgument(`params.stop[${i}] must be a non-empty string of at most ${MAX_STOP_LENGTH} characters`, `params.stop[${i}]`);
    }
  });
  let seed: bigint;
  try {
    seed = p.seed === undefined || p.seed === null ? BigInt(Math.floor(Math.random() * 2 ** 52)) : BigInt(p.seed);
  } catch {
    throw errors.invalidArgument(`params.seed must be an unsigned integer, got ${String(p.seed)}`, 'params.seed');
  }
  const logprobs = p.logprobs === true;
  const topLogprobs = checkTopLogprobs(p.top_logprobs, 'params.top_logprobs');
  if (topLogprobs > 0 && !logprobs) throw errors.invalidArgument('params.top_logprobs needs params.logprobs', 'params.top_logprobs');
  return { maxNewTokens, temperature, topK, topP, repetitionPenalty, seed, stop, ignoreEos: false, ...(logprobs ? { logprobs, topLogprobs } : {}) };
}

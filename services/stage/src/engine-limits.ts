// The token limits an engine enforces, resolved against the model's context (max_position_embeddings),
// and the checks every piece of work passes before it is admitted: a prompt is refused, never truncated.
import { errors, type FslmError } from '../../shared/errors.ts';
import {
  DEFAULT_MAX_NEW_TOKENS, DEFAULT_MAX_NEW_TOKENS_LIMIT, DEFAULT_MAX_PROMPT_TOKENS, type ResolvedEngineOptions,
} from './engine-options.ts';
import type { EngineLimits, SamplingOptions } from './types.ts';

/**
 * The limits for a model whose context is `maxPositions` (0 or less: the model states none). A limit
 * left unset defaults to its constant, lowered to what the context can hold (a prompt of at least one
 * token plus at least one new token); a limit set beyond the context is refused (FAILED_PRECONDITION).
 */
export function resolveLimits(options: ResolvedEngineOptions, maxPositions: number): EngineLimits {
  const context = Number.isInteger(maxPositions) && maxPositions > 1 ? maxPositions : null;
  const room = context === null ? Infinity : context - 1;
  const pick = (value: number | undefined, fallback: number, name: string, most: number) => {
    if (value === undefined) return Math.min(fallback, most);
    if (value > most) {
      throw errors.failedPrecondition(`${name} ${value} does not fit: ${most === room ? `the model's context is ${context} positions (max_position_embeddings)` : `at most ${most}`}`);
    }
    return value;
  };
  const maxPromptTokens = pick(options.maxPromptTokens, DEFAULT_MAX_PROMPT_TOKENS, 'maxPromptTokens', room);
  const maxNewTokensLimit = pick(options.maxNewTokensLimit, DEFAULT_MAX_NEW_TOKENS_LIMIT, 'maxNewTokensLimit', room);
  const defaultMaxNewTokens = pick(options.defaultMaxNewTokens, DEFAULT_MAX_NEW_TOKENS, 'defaultMaxNewTokens', maxNewTokensLimit);
  return {
    maxBatchSize: options.maxBatchSize,
    maxQueue: options.maxQueue,
    maxPromptTokens,
    maxNewTokensLimit,
    defaultMaxNewTokens,
    contextTokens: context,
  };
}

/**
 * The error for a prompt of `promptTokens` tokens that will ask for `maxNewTokens`, or null when it
 * fits. `partial`: the prompt is still arriving and has at least that many tokens.
 */
export function promptLimitError(limits: EngineLimits, promptTokens: number, maxNewTokens: number, partial = false): FslmError | null {
  const has = partial ? `has at least ${promptTokens} tokens so far` : `has ${promptTokens} tokens`;
  if (promptTokens > limits.maxPromptTokens) {
    return errors.invalidArgument(`the prompt ${has}; this stage accepts at most ${limits.maxPromptTokens}`, 'prompt');
  }
  if (limits.contextTokens !== null && promptTokens + maxNewTokens > limits.contextTokens) {
    return errors.invalidArgument(
      `the prompt ${has} and max_new_tokens is ${maxNewTokens}: ${promptTokens} + ${maxNewTokens} = ${promptTokens + maxNewTokens} `
      + `exceeds the model's context of ${limits.contextTokens} positions (max_position_embeddings)`,
      'prompt',
    );
  }
  return null;
}

/** Throws INVALID_ARGUMENT unless a whole prompt is non-empty and fits with its max_new_tokens. */
export function checkPromptTokens(limits: EngineLimits, promptTokens: number, maxNewTokens: number): void {
  if (promptTokens === 0) throw errors.invalidArgument('the prompt is empty', 'prompt');
  const error = promptLimitError(limits, promptTokens, maxNewTokens);
  if (error) throw error;
}

/** Throws INVALID_ARGUMENT unless every id is a token of the model's vocabulary. */
export function checkPromptIds(ids: readonly number[], vocabSize: number): void {
  const bad = ids.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
  if (bad >= 0) throw errors.invalidArgument(`prompt id ${ids[bad]} at ${bad} is not a token of this model (vocabulary of ${vocabSize})`, 'prompt');
}

/** The engine's own check of sampling options (the wire door checks them first, with field names). */
export function checkSampling(limits: EngineLimits, s: SamplingOptions): void {
  if (!Number.isInteger(s.maxNewTokens) || s.maxNewTokens < 1 || s.maxNewTokens > limits.maxNewTokensLimit) {
    throw errors.invalidArgument(`max_new_tokens must be between 1 and ${limits.maxNewTokensLimit}, got ${s.maxNewTokens}`, 'params.max_new_tokens');
  }
  const numbers: Array<[number, string]> = [[s.temperature, 'temperature'], [s.topK, 'top_k'], [s.topP, 'top_p'], [s.repetitionPenalty, 'repetition_penalty']];
  for (const [value, name] of numbers) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw errors.invalidArgument(`${name} must be a finite number`, `params.${name}`);
  }
  if (!Array.isArray(s.stop) || s.stop.some((stop) => typeof stop !== 'string' || stop.length === 0)) {
    throw errors.invalidArgument('stop must be a list of non-empty strings', 'params.stop');
  }
  if (typeof s.seed !== 'bigint') throw errors.invalidArgument('seed must be an integer', 'params.seed');
}

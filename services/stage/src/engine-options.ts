// Engine settings: documented optional fields, resolved once into a complete shape. The token limits
// are resolved against the model's context in engine-limits.ts, once the manifest is read.
import { errors } from '../../shared/errors.ts';
import type { Precision } from './artifact.ts';

export interface OnnxEngineOptions {
  /** Artifact directory (config, tokenizer, onnx/, fslm.json). */
  modelDir: string;
  /** Which weights to load; defaults to fp32. */
  precision?: Precision;
  /** ONNX Runtime intra-op threads; defaults to the core count. */
  intraOpThreads?: number;
  /** Sequences decoded together in one step. */
  maxBatchSize?: number;
  /** Requests admitted beyond the batch (waiting, or hand-off prompts being fed) before RESOURCE_EXHAUSTED. */
  maxQueue?: number;
  /** Prompt tokens accepted; defaults to DEFAULT_MAX_PROMPT_TOKENS, less where the model's context is smaller. */
  maxPromptTokens?: number;
  /** Largest max_new_tokens accepted; defaults to DEFAULT_MAX_NEW_TOKENS_LIMIT, less where the context is smaller. */
  maxNewTokensLimit?: number;
  /** max_new_tokens of a request that leaves it 0. */
  defaultMaxNewTokens?: number;
  /** Largest number of prompt positions prefilled in one run, i.e. in one engine step (bounds memory for logits and cache). */
  prefillChunk?: number;
}

/** Options with every engine setting chosen; the token limits stay optional until the model's context is known. */
export type ResolvedEngineOptions = Required<Omit<OnnxEngineOptions, 'maxPromptTokens' | 'maxNewTokensLimit' | 'defaultMaxNewTokens'>>
  & Pick<OnnxEngineOptions, 'maxPromptTokens' | 'maxNewTokensLimit' | 'defaultMaxNewTokens'>;

export const DEFAULT_MAX_BATCH_SIZE = 16;
export const DEFAULT_MAX_QUEUE = 64;
export const DEFAULT_MAX_PROMPT_TOKENS = 4096;
export const DEFAULT_MAX_NEW_TOKENS_LIMIT = 2048;
export const DEFAULT_MAX_NEW_TOKENS = 256;
export const DEFAULT_PREFILL_CHUNK = 128;

function positive(value: number | undefined, name: string): number | undefined {
  if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
    throw errors.invalidArgument(`${name} must be a positive integer, got ${value}`, name);
  }
  return value;
}

/** Fills in the defaults; throws INVALID_ARGUMENT for a setting that is not a positive integer. */
export function resolveEngineOptions(options: OnnxEngineOptions, cores: number): ResolvedEngineOptions {
  return {
    modelDir: options.modelDir,
    precision: options.precision ?? 'fp32',
    intraOpThreads: positive(options.intraOpThreads, 'intraOpThreads') ?? cores,
    maxBatchSize: positive(options.maxBatchSize, 'maxBatchSize') ?? DEFAULT_MAX_BATCH_SIZE,
    maxQueue: options.maxQueue === 0 ? 0 : positive(options.maxQueue, 'maxQueue') ?? DEFAULT_MAX_QUEUE,
    maxPromptTokens: positive(options.maxPromptTokens, 'maxPromptTokens'),
    maxNewTokensLimit: positive(options.maxNewTokensLimit, 'maxNewTokensLimit'),
    defaultMaxNewTokens: positive(options.defaultMaxNewTokens, 'defaultMaxNewTokens'),
    prefillChunk: positive(options.prefillChunk, 'prefillChunk') ?? DEFAULT_PREFILL_CHUNK,
  };
}

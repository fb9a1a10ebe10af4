// Engine settings: documented optional fields, resolved once into a complete shape.
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
  /** Requests allowed to wait for a batch slot before RESOURCE_EXHAUSTED. */
  maxQueue?: number;
  maxPromptTokens?: number;
  maxNewTokensLimit?: number;
  defaultMaxNewTokens?: number;
  /** Largest number of prompt positions prefilled in one run (bounds memory for logits and cache). */
  prefillChunk?: number;
}

export type ResolvedEngineOptions = Required<OnnxEngineOptions>;

export const DEFAULT_MAX_BATCH_SIZE = 16;
export const DEFAULT_MAX_QUEUE = 64;
export const DEFAULT_MAX_PROMPT_TOKENS = 4096;
export const DEFAULT_MAX_NEW_TOKENS_LIMIT = 2048;
export const DEFAULT_MAX_NEW_TOKENS = 256;
export const DEFAULT_PREFILL_CHUNK = 128;

export function resolveEngineOptions(options: OnnxEngineOptions, cores: number): ResolvedEngineOptions {
  return {
    modelDir: options.modelDir,
    precision: options.precision ?? 'fp32',
    intraOpThreads: options.intraOpThreads ?? cores,
    maxBatchSize: options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
    maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE,
    maxPromptTokens: options.maxPromptTokens ?? DEFAULT_MAX_PROMPT_TOKENS,
    maxNewTokensLimit: options.maxNewTokensLimit ?? DEFAULT_MAX_NEW_TOKENS_LIMIT,
    defaultMaxNewTokens: options.defaultMaxNewTokens ?? DEFAULT_MAX_NEW_TOKENS,
    prefillChunk: options.prefillChunk ?? DEFAULT_PREFILL_CHUNK,
  };
}

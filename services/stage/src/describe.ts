// What a stage tells about itself on both doors (gRPC Describe and the NATS describe subject): the
// model's manifest, the precision loaded and the limits the engine really enforces.
import type { DescribeResponse } from '../../shared/generated/fslm/v1/DescribeResponse.ts';
import { artifactParameters } from './model-size.ts';
import type { InferenceEngine } from './types.ts';

/** Numeric metrics of a manifest with nested keys joined by dots (the wire carries a flat map of doubles). */
export function flattenMetrics(value: unknown, prefix = '', out: Record<string, number> = {}): Record<string, number> {
  if (typeof value === 'number' && Number.isFinite(value)) out[prefix] = value;
  else if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) flattenMetrics(child, prefix ? `${prefix}.${key}` : key, out);
  }
  return out;
}

/** The DescribeResponse of an engine: its artifact's manifest and the engine's own limits. */
export function describeModel(engine: InferenceEngine): DescribeResponse {
  const artifact = engine.artifact;
  const m = artifact.manifest;
  const limits = engine.limits;
  return {
    manifest: {
      ...m,
      training_run: m.training_run ?? '',
      trace_id: m.trace_id ?? '',
      decoder: {
        ...m.decoder, bos_token_id: m.decoder.bos_token_id ?? undefined, pad_token_id: m.decoder.pad_token_id ?? undefined,
        max_position_embeddings: limits.contextTokens ?? 0,
      },
      metrics: flattenMetrics(m.metrics),
      version: artifact.version,
      adapter_version: artifact.adapterVersion,
    },
    precision: artifact.precision,
    has_chat_template: engine.hasChatTemplate,
    max_batch_size: limits.maxBatchSize,
    max_queue: limits.maxQueue,
    max_prompt_tokens: limits.maxPromptTokens,
    max_new_tokens_limit: limits.maxNewTokensLimit,
    default_max_new_tokens: limits.defaultMaxNewTokens,
    parameters: String(artifactParameters(artifact.dir)),
  };
}

// The number of weights of a stage's model, counted from the config.json of its artifact (Llama-family
// decoders: Llama, Mistral, Qwen2), for reports that compare systems by size.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const COUNTED = new Set(['llama', 'mistral', 'qwen2']);
const counted = new Map<string, number>();

/** Parameters of the decoder whose HF config.json is given; 0 when the model type is not one counted here. */
export function countParameters(config: Record<string, unknown>): number {
  if (!COUNTED.has(String(config.model_type))) return 0;
  const n = (key: string, fallback?: number) => {
    const value = config[key];
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
    if (fallback !== undefined) return fallback;
    throw new Error(`config.json has no positive integer ${key}`);
  };
  const hidden = n('hidden_size');
  const heads = n('num_attention_heads');
  const kvHeads = n('num_key_value_heads', heads);
  const headDim = n('head_dim', Math.floor(hidden / heads));
  const vocab = n('vocab_size');
  const attentionBias = config.attention_bias === true || config.model_type === 'qwen2';
  const attention = hidden * heads * headDim * 2 + hidden * kvHeads * headDim * 2
    + (attentionBias ? heads * headDim + 2 * kvHeads * headDim : 0) + (config.attention_bias === true ? hidden : 0);
  const mlp = 3 * hidden * n('intermediate_size') + (config.mlp_bias === true ? 2 * n('intermediate_size') + hidden : 0);
  const layer = attention + mlp + 2 * hidden;
  const embeddings = vocab * hidden * (config.tie_word_embeddings === true ? 1 : 2);
  return n('num_hidden_layers') * layer + embeddings + hidden;
}

/** Parameters of the model in an artifact directory (read once per directory); 0 when unknown. */
export function artifactParameters(dir: string): number {
  let value = counted.get(dir);
  if (value === undefined) {
    try {
      value = countParameters(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>);
    } catch {
      value = 0;
    }
    counted.set(dir, value);
  }
  return value;
}

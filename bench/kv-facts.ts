// What the bench needs to know of an artifact's KV cache: its layout per precision and its size per position.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The cache layout fslm.json records for a precision's file ('concat' when the artifact predates variants). */
export function kvLayout(modelDir: string, precision: string): 'concat' | 'shared' {
  const manifest = JSON.parse(readFileSync(path.join(modelDir, 'fslm.json'), 'utf8'));
  return manifest.variants?.[precision]?.kv_cache ?? 'concat';
}

/** Bytes of keys and values per position (all layers, key and value, float32). */
export function kvBytesPerPosition(d: { num_layers: number; num_key_value_heads: number; head_dim: number }): number {
  return d.num_layers * 2 * d.num_key_value_heads * d.head_dim * 4;
}

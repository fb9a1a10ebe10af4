// Reads the PyTorch reference written by `fslm-trainer reference`: prompts, their ids, greedy ids and logits.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface ReferencePrompt {
  name: string;
  text: string;
  chat: boolean;
  messages?: Array<{ role: string; content: string }>;
  input_ids: number[];
  greedy_ids: number[];
  greedy_text: string;
  logits_offset: number;
}

export interface Reference {
  tokens: number;
  vocab_size: number;
  prompts: ReferencePrompt[];
  /** Row `step` of prompt p's logits (row 0: the prefill's last position). */
  logits(prompt: ReferencePrompt, step: number): Float32Array;
}

export function readReference(dir: string): Reference {
  const meta = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8'));
  const raw = readFileSync(path.join(dir, 'logits.f32'));
  const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const vocab = meta.vocab_size as number;
  return {
    ...meta,
    logits: (prompt: ReferencePrompt, step: number) => all.subarray(prompt.logits_offset + step * vocab, prompt.logits_offset + (step + 1) * vocab),
  };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

// The prompts every contender gets, as text (what a stage is sent) and as the ids that text encodes to
// (what the peers that take ids are fed), and how two greedy outputs are compared.
import os from 'node:os';
import { loadArtifact } from '../services/stage/src/artifact.ts';
import { TextCodec } from '../services/stage/src/text-codec.ts';

const BENCH_TEXT = 'The history of the river valley begins with the first farmers, who settled along its banks and learned to read the floods. ';

export interface BenchPrompt {
  text: string;
  ids: number[];
}

export interface BenchTokenizer {
  codec: TextCodec;
  /** A raw-text prompt of exactly `length` tokens (as a stage tokenizes a raw prompt). */
  prompt(length: number): BenchPrompt;
  /** The ids of a stage's generated text (re-encoded: the wire carries text, not ids). */
  idsOf(text: string): number[];
}

export async function benchTokenizer(modelDir: string): Promise<BenchTokenizer> {
  const codec = new TextCodec(await loadArtifact(modelDir));
  const encodePrompt = (text: string) => codec.encodePrompt({ kind: 'text', text });
  return {
    codec,
    prompt(length) {
      let whole = BENCH_TEXT;
      while (codec.encode(whole, false).length < length + 16) whole += BENCH_TEXT;
      const ids = codec.encode(whole, false);
      // Cutting ids and decoding may merge at the cut; take the first cut that re-encodes to `length` ids.
      for (let cut = length; cut < length + 16; cut++) {
        const text = codec.decode(ids.slice(0, cut));
        const encoded = encodePrompt(text);
        if (encoded.length === length) return { text, ids: encoded };
      }
      throw new Error(`no cut of the bench text encodes to ${length} tokens`);
    },
    idsOf: (text) => codec.encode(text, false),
  };
}

/** Index of the first position where two greedy outputs differ; -1 when one is a prefix of the other. */
export function firstDivergence(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** The machine's 1-minute load average, rounded, for every figure's detail. */
export function loadAverage(): number {
  return Math.round(os.loadavg()[0] * 100) / 100;
}

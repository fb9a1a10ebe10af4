// Picks the next token from a logits row: greedy, or seeded sampling with temperature, top-k, top-p and a repetition penalty.
import type { SamplingOptions } from './types.ts';

/** xoshiro128** seeded from a 64-bit seed: reproducible across runs and platforms. */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: bigint) {
    let x = BigInt.asUintN(64, seed);
    const next = (): number => {
      // splitmix64
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      return Number(BigInt.asUintN(32, z ^ (z >> 31n)));
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() | 1;
  }

  /** Uniform in [0, 1). */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export function argmax(row: Float32Array): number {
  let best = 0;
  let bestValue = row[0];
  for (let i = 1; i < row.length; i++) {
    if (row[i] > bestValue) {
      bestValue = row[i];
      best = i;
    }
  }
  return best;
}

export class Sampler {
  private readonly random: SeededRandom;
  private readonly seen = new Set<number>();

  constructor(private readonly options: SamplingOptions, promptIds: readonly number[]) {
    this.random = new SeededRandom(options.seed);
    if (options.repetitionPenalty !== 1) for (const id of promptIds) this.seen.add(id);
  }

  /** Chooses a token; `row` may be modified. `banned` ids (EOS before min length) get -Infinity. */
  pick(row: Float32Array, banned?: readonly number[]): number {
    const { temperature, repetitionPenalty } = this.options;
    if (repetitionPenalty !== 1) {
      for (const id of this.seen) {
        const v = row[id];
        row[id] = v > 0 ? v / repetitionPenalty : v * repetitionPenalty;
      }
    }
    if (banned) for (const id of banned) row[id] = -Infinity;
    const token = temperature === 0 ? argmax(row) : this.sample(row);
    if (repetitionPenalty !== 1) this.seen.add(token);
    return token;
  }

  private sample(row: Float32Array): number {
    const { temperature, topK, topP } = this.options;
    const candidateCount = topK > 0 ? Math.min(topK, row.length) : row.length;
    const candidates = topCandidates(row, candidateCount);
    const max = row[candidates[0]];
    const weights = new Float64Array(candidates.length);
    let total = 0;
    for (let i = 0; i < candidates.length; i++) {
      weights[i] = Math.exp((row[candidates[i]] - max) / temperature);
      total += weights[i];
    }
    let keep = candidates.length;
    if (topP > 0 && topP < 1) {
      let cumulative = 0;
      for (let i = 0; i < candidates.length; i++) {
        cumulative += weights[i] / total;
        if (cumulative >= topP) {
          keep = i + 1;
          break;
        }
      }
      total = 0;
      for (let i = 0; i < keep; i++) total += weights[i];
    }
    let threshold = this.random.next() * total;
    for (let i = 0; i < keep; i++) {
      threshold -= weights[i];
      if (threshold < 0) return candidates[i];
    }
    return candidates[keep - 1];
  }
}

/** Indices of the `count` largest values, largest first. */
export function topCandidates(row: Float32Array, count: number): number[] {
  if (count >= row.length) {
    return Array.from(row.keys()).sort((a, b) => row[b] - row[a]);
  }
  // Keep a small sorted list; vocabularies are large and k is usually small.
  const top: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (top.length === count && v <= row[top[count - 1]]) continue;
    let at = top.length;
    while (at > 0 && row[top[at - 1]] < v) at--;
    top.splice(at, 0, i);
    if (top.length > count) top.pop();
  }
  return top;
}

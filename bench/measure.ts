// Timing helpers for the benchmarks: medians of interleaved repetitions, so machine noise hits every contender alike.

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Runs each contender once per round, in rotating order, and returns every contender's samples. */
export async function interleave<K extends string>(rounds: number, contenders: Record<K, () => Promise<number>>): Promise<Record<K, number[]>> {
  const names = Object.keys(contenders) as K[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length];
      samples[name].push(await contenders[name]());
    }
  }
  return samples;
}

/**
 * Per-token decode cost of a generator, free of prefill: time(prefix + n tokens) - time(prefix + 1 token), over n - 1.
 */
export async function decodeMsPerToken(generate: (tokens: number) => Promise<unknown>, tokens: number): Promise<number> {
  const one = await timeMs(() => generate(1));
  const many = await timeMs(() => generate(tokens));
  return (many - one) / (tokens - 1);
}

/** Like decodeMsPerToken, for a contender that times its own generation (a peer in another process). */
export async function decodeMsPerTokenOf(generate: (tokens: number) => Promise<{ ms: number }>, tokens: number): Promise<number> {
  const one = (await generate(1)).ms;
  const many = (await generate(tokens)).ms;
  return (many - one) / (tokens - 1);
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

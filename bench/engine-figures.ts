// P2-P5 and P9: the stage engine against transformers.js, a bare onnxruntime-node loop and PyTorch generate(),
// each on the same artifact, measured side by side.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ThreadedEngine } from '../services/stage/src/engine-threaded.ts';
import type { SamplingOptions } from '../services/stage/src/types.ts';
import { atLeast, atMost, type Figure } from './figure.ts';
import { decodeMsPerToken, interleave, median, percentile, round, timeMs } from './measure.ts';
import { openBareLoop } from './peers/bare-ort-loop.ts';
import { openTransformersJs } from './peers/transformers-js.ts';

export interface BenchModel {
  name: string;
  onnxDir: string;
  hfDir: string;
  /** Whether per-token overhead, not arithmetic, dominates decode (a tiny model). */
  overheadBound: boolean;
}

export interface EngineBenchOptions {
  threads: number;
  rounds: number;
  tokens: number;
  python: string;
}

const BENCH_TEXT = 'The history of the river valley begins with the first farmers, who settled along its banks and learned to read the floods. ';

function greedy(maxNewTokens: number): SamplingOptions {
  return { maxNewTokens, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0n, stop: [], ignoreEos: true };
}

function promptIds(engine: ThreadedEngine, length: number): number[] {
  let ids: number[] = [];
  while (ids.length < length) ids = ids.concat(engine.codec.encode(BENCH_TEXT, false));
  return ids.slice(0, length);
}

export async function engineFigures(model: BenchModel, options: EngineBenchOptions, log: (line: string) => void): Promise<Figure[]> {
  const { threads, rounds, tokens } = options;
  // The engine as `fslm stage` serves it: on its own worker thread, whose small heap keeps V8's
  // collections cheap while onnxruntime-node hands back megabytes of present tensors per step.
  const engine = await ThreadedEngine.load({ modelDir: model.onnxDir, intraOpThreads: threads, maxBatchSize: 16 });
  const d = engine.artifact.manifest.decoder;
  const bare = await openBareLoop(engine.artifact.onnxPath, d.num_layers, d.num_key_value_heads, d.head_dim, threads);
  const tjs = await openTransformersJs(model.onnxDir, threads);
  let requestCount = 0;
  const engineGenerate = async (ids: number[], n: number) =>
    (await engine.generate({ prompt: { kind: 'ids', ids }, sampling: greedy(n), requestId: `bench-${requestCount++}` })).tokenIds;
  try {
    const ids16 = promptIds(engine, 16);
    const outputs = { engine: await engineGenerate(ids16, tokens), bare: await bare.generate(ids16, tokens), transformersJs: await tjs.generate(ids16, tokens) };
    const agree = (a: number[], b: number[]) => a.findIndex((t, i) => t !== b[i]);
    log(`${model.name}: decode ms/token, engine vs transformers.js vs bare onnxruntime loop (${rounds} rounds, ${tokens} tokens, ${threads} thread)`);
    const perToken = await interleave(rounds, {
      engine: () => decodeMsPerToken((n) => engineGenerate(ids16, n), tokens),
      bare: () => decodeMsPerToken((n) => bare.generate(ids16, n), tokens),
      transformersJs: () => decodeMsPerToken((n) => tjs.generate(ids16, n), tokens),
    });
    const ms = { engine: median(perToken.engine), bare: median(perToken.bare), transformersJs: median(perToken.transformersJs) };
    const common = { model: model.name, threads, tokens, rounds };
    const figures: Figure[] = [
      atLeast('P2', `engine decode tokens/s vs transformers.js (${model.name})`, ms.transformersJs / ms.engine, model.overheadBound ? 1.5 : 1.0, {
        ...common, engine_ms_per_token: round(ms.engine), transformers_js_ms_per_token: round(ms.transformersJs),
        first_divergence_vs_transformers_js: agree(outputs.engine, outputs.transformersJs),
      }),
      atLeast('P3', `engine vs bare onnxruntime-node greedy loop (${model.name})`, ms.bare / ms.engine, 0.95, {
        ...common, engine_ms_per_token: round(ms.engine), bare_ms_per_token: round(ms.bare), first_divergence_vs_bare: agree(outputs.engine, outputs.bare),
      }),
    ];

    log(`${model.name}: per-token cost at position 512 vs 16`);
    const ids512 = promptIds(engine, 512);
    const positional = await interleave(rounds, {
      at16: () => decodeMsPerToken((n) => engineGenerate(ids16, n), 16),
      at512: () => decodeMsPerToken((n) => engineGenerate(ids512, n), 16),
    });
    const at16 = median(positional.at16);
    const at512 = median(positional.at512);
    figures.push(atMost('P4', `KV-cache decode cost per token at position 512 vs 16 (${model.name})`, at512 / at16, 1.3, 'x', {
      ...common, ms_per_token_at_16: round(at16), ms_per_token_at_512: round(at512),
    }));

    log(`${model.name}: 16 concurrent requests vs 1`);
    const concurrency = 16;
    const single: number[] = [];
    const batched: number[] = [];
    const batchedLatencies: number[] = [];
    for (let r = 0; r < rounds; r++) {
      single.push(await timeMs(() => engineGenerate(ids16, tokens)));
      const latencies: number[] = [];
      const start = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        const t0 = performance.now();
        await engineGenerate(ids16, tokens);
        latencies.push(performance.now() - t0);
      }));
      batched.push(performance.now() - start);
      batchedLatencies.push(median(latencies));
    }
    const throughputRatio = (concurrency * median(single)) / median(batched);
    const latencyRatio = median(batchedLatencies) / median(single);
    const p5 = atLeast('P5', `tokens/s at ${concurrency} concurrent requests vs 1 (${model.name})`, throughputRatio, 4, {
      ...common, single_request_ms: round(median(single)), concurrent_wall_ms: round(median(batched)),
      p50_latency_ratio: round(latencyRatio), p50_latency_goal: '<= 2', p95_latency_ms: round(percentile(batchedLatencies, 95)),
    });
    p5.met = p5.met && latencyRatio <= 2;
    figures.push(p5);

    log(`${model.name}: PyTorch generate() on the same weights`);
    const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers/pytorch_generate.py');
    const torchOut = JSON.parse(execFileSync(options.python, [script, '--model', model.hfDir, '--ids', JSON.stringify(ids16), '--tokens', String(tokens), '--rounds', String(rounds), '--threads', String(threads)], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n').pop()!);
    const engineAfter = [];
    for (let r = 0; r < rounds; r++) engineAfter.push(await decodeMsPerToken((n) => engineGenerate(ids16, n), tokens));
    const engineMs = median([...perToken.engine, ...engineAfter]);
    figures.push(atLeast('P9', `engine vs HF transformers generate() on PyTorch CPU (${model.name})`, torchOut.ms_per_token / engineMs, 2, {
      ...common, engine_ms_per_token: round(engineMs), pytorch_ms_per_token: round(torchOut.ms_per_token), torch: torchOut.torch,
      first_divergence_vs_pytorch: agree(outputs.engine, torchOut.ids),
    }));
    return figures;
  } finally {
    await Promise.all([engine.close(), bare.close(), tjs.close()]);
  }
}

// P2-P5 and P9 for one model at one precision: the engine as it is served (a `fslm stage` process, one
// intra-op thread, over gRPC) against transformers.js and a bare onnxruntime-node loop on the same file,
// and PyTorch generate() on the same weights, in interleaved rounds.
import type { Precision } from '../services/stage/src/artifact.ts';
import { firstDivergence, loadAverage, type BenchPrompt, type BenchTokenizer } from './bench-prompts.ts';
import { atLeast, atMost, type Figure } from './figure.ts';
import { decodeMsPerToken, decodeMsPerTokenOf, interleave, median, percentile, round, timeMs } from './measure.ts';
import { CAPACITY_STEP } from '../services/stage/src/kv-cache-shared.ts';
import { kvBytesPerPosition, kvLayout } from './kv-facts.ts';
import { openBareLoop } from './peers/bare-ort-loop.ts';
import type { PythonPeer } from './peers/python-peer.ts';
import { openTransformersJs } from './peers/transformers-js.ts';
import type { ServedStage } from './served-stage.ts';

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
  quick: boolean;
}

/** What the figures of one model at one precision share. */
export interface PrecisionRun {
  model: BenchModel;
  precision: Precision;
  stage: ServedStage;
  tokenizer: BenchTokenizer;
  p16: BenchPrompt;
  p512: BenchPrompt;
  /** PyTorch float32 greedy ids after p16: what every output is compared with. */
  fp32Ids: number[];
  torch: PythonPeer;
  options: EngineBenchOptions;
  log(line: string): void;
}

/** The served engine's greedy ids after `prompt` and its per-token decode cost, checking no EOS cut it short. */
export async function servedGreedy(run: PrecisionRun, prompt: BenchPrompt, tokens: number): Promise<number[]> {
  const result = await run.stage.generate(prompt.text, tokens);
  if (result.usage?.completion_tokens !== tokens) {
    throw new Error(`the ${run.precision} stage stopped after ${result.usage?.completion_tokens} of ${tokens} tokens (EOS): the bench prompt must not end`);
  }
  return run.tokenizer.idsOf(result.text);
}

export const servedMsPerToken = (run: PrecisionRun, prompt: BenchPrompt, tokens: number) =>
  decodeMsPerToken((n) => run.stage.generate(prompt.text, n), tokens);

/** Worst-case fidelity of this precision's file against fp32 as the export recorded it (fslm.json). */
export async function exportFidelity(run: PrecisionRun): Promise<Record<string, unknown> | null> {
  const summary = (await run.stage.describe()).manifest?.metrics ?? {};
  const prefix = `fidelity_${run.precision}.`;
  const entries = Object.entries(summary).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]);
  return entries.length ? Object.fromEntries(entries) : null;
}

const roundUp = (n: number, step: number) => Math.ceil(n / step) * step;

export async function engineFigures(run: PrecisionRun): Promise<Figure[]> {
  const { model, precision, options, p16, p512, log } = run;
  const { threads, rounds, tokens } = options;
  const stageDir = model.onnxDir;
  const onnxPath = (await run.stage.describe()).manifest!.onnx![precision];
  const d = (await run.stage.describe()).manifest!.decoder!;
  const bare = await openBareLoop(`${stageDir}/${onnxPath}`, d.num_layers, d.num_key_value_heads, d.head_dim, threads);
  const tjs = await openTransformersJs(stageDir, threads, precision);
  const label = `${model.name}, ${precision}`;
  try {
    const outputs = { engine: await servedGreedy(run, p16, tokens), bare: await bare.generate(p16.ids, tokens), transformersJs: await tjs.generate(p16.ids, tokens) };
    log(`${label}: decode ms/token, served engine vs transformers.js vs bare onnxruntime loop vs PyTorch (${rounds} rounds, ${tokens} tokens)`);
    const perToken = await interleave(rounds, {
      engine: () => servedMsPerToken(run, p16, tokens),
      bare: () => decodeMsPerToken((n) => bare.generate(p16.ids, n), tokens),
      transformersJs: () => decodeMsPerToken((n) => tjs.generate(p16.ids, n), tokens),
      pytorch: () => decodeMsPerTokenOf((n) => run.torch.generate(p16.ids, n), tokens),
    });
    const ms = { engine: median(perToken.engine), bare: median(perToken.bare), transformersJs: median(perToken.transformersJs), pytorch: median(perToken.pytorch) };
    const common = { model: model.name, precision, threads, tokens, rounds, served: 'fslm stage process over gRPC', load_average_1m: loadAverage() };
    const fidelity = { engine_first_divergence_vs_fp32: firstDivergence(outputs.engine, run.fp32Ids), export_fidelity: await exportFidelity(run) };
    const figures: Figure[] = [
      atLeast('P2', `engine decode tokens/s vs transformers.js (${label})`, ms.transformersJs / ms.engine, 1.5, {
        ...common, engine_ms_per_token: round(ms.engine), transformers_js_ms_per_token: round(ms.transformersJs),
        first_divergence_vs_transformers_js: firstDivergence(outputs.engine, outputs.transformersJs),
      }),
      atLeast('P3', `engine vs bare onnxruntime-node greedy loop (${label})`, ms.bare / ms.engine, 0.95, {
        ...common, engine_ms_per_token: round(ms.engine), bare_ms_per_token: round(ms.bare), first_divergence_vs_bare: firstDivergence(outputs.engine, outputs.bare),
      }),
      atLeast('P9', `engine vs HF transformers generate() on PyTorch CPU, float32 (${label})`, ms.pytorch / ms.engine, 2, {
        ...common, engine_ms_per_token: round(ms.engine), pytorch_ms_per_token: round(ms.pytorch), pytorch: run.torch.info, ...fidelity,
      }),
    ];

    // The bare loop feeds present back as past (two copies of the cache per step): the cache layout's
    // before/after on the same file; --quick leaves it out.
    log(`${label}: per-token cost at position 512 vs 16${options.quick ? '' : ' (served engine and the bare loop)'}`);
    const bareAt = (p: BenchPrompt) => (options.quick ? {} : { [`bare${p.ids.length}`]: () => decodeMsPerToken((n) => bare.generate(p.ids, n), 16) });
    const positional: Record<string, number[]> = await interleave(rounds, {
      at16: () => servedMsPerToken(run, p16, 16),
      at512: () => servedMsPerToken(run, p512, 16),
      ...bareAt(p16),
      ...bareAt(p512),
    });
    const at16 = median(positional.at16);
    const at512 = median(positional.at512);
    const layout = kvLayout(model.onnxDir, precision);
    const perPosition = kvBytesPerPosition(d);
    const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
    figures.push(atMost('P4', `KV-cache decode cost per token at position 512 vs 16 (${label})`, at512 / at16, 1.3, 'x', {
      ...common, ms_per_token_at_16: round(at16), ms_per_token_at_512: round(at512), kv_layout: layout,
      ...(positional.bare16 ? { bare_loop_ms_per_token_at_16: round(median(positional.bare16)), bare_loop_ms_per_token_at_512: round(median(positional.bare512)) } : {}),
      // concat: the graph writes present (past + 1) and onnxruntime-node copies it out; shared: the graph
      // writes one position in place and onnxruntime-node copies the fetched buffer (its capacity) out.
      kv_bytes_copied_per_step_at_512_mib: mib(layout === 'shared' ? roundUp(528, CAPACITY_STEP) * perPosition : 2 * 528 * perPosition),
      bare_loop_kv_bytes_copied_per_step_at_512_mib: mib(2 * 528 * perPosition),
    }));
    figures.push(await concurrency(run, common));
    return figures;
  } finally {
    await Promise.all([bare.close(), tjs.close()]);
  }
}

/** P5: 16 concurrent requests to the served stage vs one at a time. */
async function concurrency(run: PrecisionRun, common: Record<string, unknown>): Promise<Figure> {
  const { tokens } = run.options;
  const rounds = run.options.quick ? 2 : run.options.rounds;
  const n = 16;
  run.log(`${run.model.name}, ${run.precision}: ${n} concurrent requests vs 1`);
  const single: number[] = [];
  const batched: number[] = [];
  const latencies: number[] = [];
  for (let r = 0; r < rounds; r++) {
    single.push(await timeMs(() => run.stage.generate(run.p16.text, tokens)));
    const each: number[] = [];
    batched.push(await timeMs(() => Promise.all(Array.from({ length: n }, async () => {
      each.push(await timeMs(() => run.stage.generate(run.p16.text, tokens)));
    }))));
    latencies.push(median(each));
  }
  const throughput = (n * median(single)) / median(batched);
  const latencyRatio = median(latencies) / median(single);
  const figure = atLeast('P5', `tokens/s at ${n} concurrent requests vs 1 (${run.model.name}, ${run.precision})`, throughput, 4, {
    ...common, single_request_ms: round(median(single)), concurrent_wall_ms: round(median(batched)),
    p50_latency_ratio: round(latencyRatio), p50_latency_goal: '<= 2', p95_latency_ms: round(percentile(latencies, 95)),
  });
  figure.met = figure.met && latencyRatio <= 2;
  return figure;
}

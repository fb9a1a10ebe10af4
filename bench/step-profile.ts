// One precision's decode step taken apart, in a process of its own (so that its resident memory is its
// own): the engine's DecoderSession (the class a stage decodes with) runs with onnxruntime's profiler on,
// and each step's wall time in JavaScript is split into onnxruntime's own run time (its `model_run`
// event), the kernels inside it (`*_kernel_time` events, summed per operator type), and what is left
// outside onnxruntime (feeds built, outputs copied into JavaScript, the cache's bookkeeping).
//
// Run as: node --import tsx/esm bench/step-profile.ts MODEL_DIR PRECISION STEPS
// and prints one JSON line: a StepProfile.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadArtifact, isPrecision } from '../services/stage/src/artifact.ts';
import { DecoderSession } from '../services/stage/src/decoder-session.ts';
import type { KvCache } from '../services/stage/src/kv-cache.ts';
import { median, round } from './measure.ts';

/** One scenario of decode steps: `batch` rows, each `position` tokens into its sequence. */
export interface StepScenario {
  position: number;
  batch: number;
}

/** Where one decode step's time goes, medians over the scenario's steps, in milliseconds. */
export interface StepBreakdown extends StepScenario {
  steps: number;
  /** DecoderSession.run as JavaScript sees it. */
  wall_ms: number;
  /** onnxruntime's own `model_run` span of the step. */
  ort_run_ms: number;
  /** The kernels' time inside that run (the sum of its `*_kernel_time` events). */
  kernels_ms: number;
  /** wall_ms - ort_run_ms: feeds, output copies into JavaScript, cache bookkeeping. */
  outside_ort_ms: number;
  /** The operator types that take most of a step: ms per step and share of the kernels' time. */
  ops: Array<{ op: string; ms: number; share: number }>;
}

/** One precision's profile: its step breakdowns and its process's resident memory (MiB). */
export interface StepProfile {
  precision: string;
  file: string;
  weights_mib: number;
  kv_layout: string;
  rss_mib: { runtime: number; session_open: number; after_position_512: number; after_batch_16: number };
  scenarios: StepBreakdown[];
}

/** The scenarios every precision is profiled in: P4's positions 16 and 512, and P5's 16 rows. */
export const SCENARIOS: StepScenario[] = [{ position: 16, batch: 1 }, { position: 512, batch: 1 }, { position: 16, batch: 16 }];
const PREFILL_CHUNK = 128;

interface TraceEvent { cat: string; name: string; ts: number; dur: number; args?: { op_name?: string } }

const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

/** Greedy next ids of each row from a step's output. */
function nextIds(out: { logits: Float32Array[] | null; nextTokens: number[] | null }): number[] {
  if (out.nextTokens) return out.nextTokens;
  return out.logits!.map((row) => {
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    return best;
  });
}

/** Profiles `precision` of the artifact in `modelDir`, `steps` decode steps per scenario. */
export async function profileStep(modelDir: string, precision: string, steps: number): Promise<StepProfile> {
  if (!isPrecision(precision)) throw new Error(`unknown precision ${precision}`);
  const artifact = await loadArtifact(modelDir, precision);
  const d = artifact.manifest.decoder;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-profile-'));
  const rss = { runtime: mib(process.memoryUsage().rss), session_open: 0, after_position_512: 0, after_batch_16: 0 };
  const session = await DecoderSession.open(artifact.onnxPath, { layers: d.num_layers, heads: d.num_key_value_heads, headDim: d.head_dim }, d.vocab_size,
    { intraOpThreads: 1, kvLayout: artifact.kvLayout, profileFilePrefix: path.join(dir, 'ort') });
  rss.session_open = mib(process.memoryUsage().rss);
  // Every session.run in order, with the scenario index of decode steps (-1: prefill or warm-up).
  const runs: Array<{ scenario: number; wallMs: number }> = [];
  const timed = async (scenario: number, cache: KvCache, ids: number[][], logits: boolean) => {
    const start = performance.now();
    const out = await session.run(cache, ids, logits);
    runs.push({ scenario, wallMs: performance.now() - start });
    return out;
  };
  try {
    for (const [index, { position, batch }] of SCENARIOS.entries()) {
      let cache = session.emptyCache(batch);
      const prompt = Array.from({ length: position }, (_, i) => 1000 + (i * 7919) % 20000);
      let out;
      for (let at = 0; at < position; at += PREFILL_CHUNK) {
        out = await timed(-1, cache, Array.from({ length: batch }, () => prompt.slice(at, at + PREFILL_CHUNK)), at + PREFILL_CHUNK >= position);
        cache = out.cache;
      }
      let ids = nextIds(out!);
      for (let step = 0; step < steps + 1; step++) {
        // The first step after a prefill warms the kernels at this shape: not counted.
        out = await timed(step === 0 ? -1 : index, cache, ids.map((id) => [id]), false);
        cache = out.cache;
        ids = nextIds(out);
      }
      if (position === 512) rss.after_position_512 = mib(process.memoryUsage().rss);
      if (batch === 16) rss.after_batch_16 = mib(process.memoryUsage().rss);
    }
    session.endProfiling();
    const file = readdirSync(dir).find((f) => f.startsWith('ort') && f.endsWith('.json'));
    if (!file) throw new Error(`onnxruntime wrote no profile into ${dir}`);
    const events = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as TraceEvent[];
    const modelRuns = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
    if (modelRuns.length !== runs.length) throw new Error(`profile has ${modelRuns.length} runs, ${runs.length} were made`);
    const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
    const scenarios = SCENARIOS.map((scenario, index): StepBreakdown => {
      const mine = runs.map((r, i) => ({ ...r, ort: modelRuns[i] })).filter((r) => r.scenario === index);
      const perRun = mine.map((r) => kernels.filter((k) => k.ts >= r.ort.ts && k.ts <= r.ort.ts + r.ort.dur));
      const byOp = new Map<string, number>();
      for (const list of perRun) for (const k of list) byOp.set(k.args?.op_name ?? k.name, (byOp.get(k.args?.op_name ?? k.name) ?? 0) + k.dur / 1000);
      const kernelsMs = median(perRun.map((list) => list.reduce((sum, k) => sum + k.dur / 1000, 0)));
      const total = [...byOp.values()].reduce((a, b) => a + b, 0);
      const wall = median(mine.map((r) => r.wallMs));
      const ortRun = median(mine.map((r) => r.ort.dur / 1000));
      return {
        ...scenario, steps: mine.length, wall_ms: round(wall), ort_run_ms: round(ortRun), kernels_ms: round(kernelsMs), outside_ort_ms: round(wall - ortRun),
        ops: [...byOp.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6)
          .map(([op, ms]) => ({ op, ms: round(ms / mine.length), share: round(ms / total, 2) })),
      };
    });
    const onnx = artifact.onnxPath;
    const weights = statSync(onnx).size + (statSync(`${onnx}.data`, { throwIfNoEntry: false })?.size ?? 0);
    return { precision, file: path.basename(onnx), weights_mib: mib(weights), kv_layout: artifact.kvLayout, rss_mib: rss, scenarios };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const [modelDir, precision, steps] = process.argv.slice(2);
  const profile = await profileStep(modelDir, precision, Number(steps));
  console.log(JSON.stringify(profile));
}

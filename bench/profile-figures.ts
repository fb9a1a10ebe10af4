// `fslm bench --profile`: the profile behind the figures that miss their goals. Per precision, a decode
// step of SmolLM2 taken apart by onnxruntime's profiler (bench/step-profile.ts, in a process of its own)
// at P4's positions 16 and 512 and P5's batch of 16, with the resident memory of P12; interleaved with
// it, onnxruntime-genai's per-token time on the same file (P11's peer) and a bare onnxruntime-node loop
// (P3's floor), so the split of our step can be read against theirs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAverage } from './bench-prompts.ts';
import { decodeMsPerToken, decodeMsPerTokenOf, median, round } from './measure.ts';
import { openBareLoop } from './peers/bare-ort-loop.ts';
import { startPythonPeer } from './peers/python-peer.ts';
import type { StepBreakdown, StepProfile } from './step-profile.ts';
import { loadArtifact, type Precision } from '../services/stage/src/artifact.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'step-profile.ts');

export interface ProfileOptions {
  onnxDir: string;
  python: string;
  precisions: Precision[];
  steps: number;
  rounds: number;
  log: (line: string) => void;
}

/** One precision: the median profile of its rounds, and its peers' per-token decode times at position 16. */
export interface PrecisionProfile extends StepProfile {
  genai_ms_per_token: number | null;
  bare_ort_ms_per_token: number;
  rounds: number;
}

function runChild(onnxDir: string, precision: string, steps: number): Promise<StepProfile> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx/esm', CHILD, onnxDir, precision, String(steps)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err = (err + c).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!) as StepProfile);
      else reject(new Error(`step profile of ${precision} exited ${code}: ${err}`));
    });
  });
}

/** The per-scenario median of several rounds' breakdowns (the op list of the middle round by wall time). */
function medianProfile(rounds: StepProfile[]): StepProfile {
  const first = rounds[0];
  const scenarios = first.scenarios.map((_, i): StepBreakdown => {
    const all = rounds.map((r) => r.scenarios[i]);
    const mid = [...all].sort((a, b) => a.wall_ms - b.wall_ms)[Math.floor(all.length / 2)];
    const m = (key: 'wall_ms' | 'ort_run_ms' | 'kernels_ms' | 'outside_ort_ms') => round(median(all.map((s) => s[key])));
    return { ...mid, wall_ms: m('wall_ms'), ort_run_ms: m('ort_run_ms'), kernels_ms: m('kernels_ms'), outside_ort_ms: m('outside_ort_ms') };
  });
  const rss = (key: keyof StepProfile['rss_mib']) => round(median(rounds.map((r) => r.rss_mib[key])), 1);
  return { ...first, scenarios, rss_mib: { runtime: rss('runtime'), session_open: rss('session_open'), after_position_512: rss('after_position_512'), after_batch_16: rss('after_batch_16') } };
}

/** Profiles each precision, interleaving its rounds with its peers' rounds. */
export async function profileFigures(options: ProfileOptions): Promise<PrecisionProfile[]> {
  const { onnxDir, python, steps, rounds, log } = options;
  const prompt = Array.from({ length: 16 }, (_, i) => 1000 + (i * 7919) % 20000);
  const results: PrecisionProfile[] = [];
  for (const precision of options.precisions) {
    const artifact = await loadArtifact(onnxDir, precision);
    const d = artifact.manifest.decoder;
    const genai = precision === 'fp32' ? null
      : await startPythonPeer(python, ['genai', '--onnx', artifact.onnxPath, '--artifact', onnxDir, '--threads', '1']);
    const bare = await openBareLoop(artifact.onnxPath, d.num_layers, d.num_key_value_heads, d.head_dim, 1);
    try {
      const profiles: StepProfile[] = [];
      const genaiMs: number[] = [];
      const bareMs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        log(`profile ${precision}: round ${r + 1} of ${rounds}`);
        profiles.push(await runChild(onnxDir, precision, steps));
        if (genai) genaiMs.push(await decodeMsPerTokenOf((n) => genai.generate(prompt, n), steps));
        bareMs.push(await decodeMsPerToken((n) => bare.generate(prompt, n), steps));
      }
      results.push({
        ...medianProfile(profiles), rounds,
        genai_ms_per_token: genai ? round(median(genaiMs)) : null, bare_ort_ms_per_token: round(median(bareMs)),
      });
    } finally {
      await bare.close();
      await genai?.close();
    }
  }
  return results;
}

/** The profile as text lines: one per precision and scenario, then each precision's memory and peers. */
export function profileLines(profiles: PrecisionProfile[]): string[] {
  const lines = ['precision position batch   step ms  ort run  kernels  outside  top operators (ms per step, share of kernels)'];
  for (const p of profiles) {
    for (const s of p.scenarios) {
      const ops = s.ops.slice(0, 4).map((o) => `${o.op} ${o.ms} (${Math.round(o.share * 100)}%)`).join(', ');
      lines.push(`${p.precision.padEnd(9)} ${String(s.position).padStart(8)} ${String(s.batch).padStart(5)} ${String(s.wall_ms).padStart(9)} ${String(s.ort_run_ms).padStart(8)} ${String(s.kernels_ms).padStart(8)} ${String(s.outside_ort_ms).padStart(8)}  ${ops}`);
    }
  }
  for (const p of profiles) {
    lines.push(`${p.precision}: weights ${p.weights_mib} MiB (${p.file}, kv ${p.kv_layout}); resident MiB: runtime ${p.rss_mib.runtime}, session open ${p.rss_mib.session_open}, after position 512 ${p.rss_mib.after_position_512}, after batch 16 ${p.rss_mib.after_batch_16}; `
      + `peers at position 16: onnxruntime-genai ${p.genai_ms_per_token ?? 'n/a'} ms/token, bare onnxruntime-node loop ${p.bare_ort_ms_per_token} ms/token`);
  }
  lines.push(`load average (1 min): ${loadAverage()}`);
  return lines;
}

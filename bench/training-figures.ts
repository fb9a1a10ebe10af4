// P8: a training run's wall time vs its slowest stage. Two independent stages fine-tune the tiny model
// for a few steps through the local executor (`fslm train --local`, in this process), so they run in
// parallel: the run should take about as long as its slowest stage, not the sum of both.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseTrainConfig } from '../services/controller/src/local-config.ts';
import { trainLocal } from '../services/controller/src/local-main.ts';
import type { StageStatus } from '../services/controller/src/types.ts';
import { atMost, type Figure } from './figure.ts';
import { median, round } from './measure.ts';

export interface TrainingBenchOptions {
  /** HF directory of the tiny test model (scripts/models `tiny`). */
  tinyDir: string;
  python: string;
  steps: number;
  rounds: number;
}

const STAGES = ['left', 'right'];
const stageSeconds = (s: StageStatus): number => (Date.parse(s.finishTime!) - Date.parse(s.startTime!)) / 1000;

async function writeRun(dir: string, opts: TrainingBenchOptions): Promise<string> {
  const rows = Array.from({ length: 32 }, (_, i) => JSON.stringify({ system: '', prompt: `What is ${i} times 3?`, completion: `${i} times 3 is ${i * 3}.` }));
  for (const s of STAGES) await writeFile(path.join(dir, `${s}.jsonl`), `${rows.join('\n')}\n`);
  const run = {
    apiVersion: 'fslm.dev/v1alpha1', kind: 'StackTrainingRun', metadata: { name: 'bench-p8' },
    spec: {
      // One torch thread per stage: the stages share this machine's cores.
      template: { env: [{ name: 'FSLM_THREADS', value: '1' }] },
      retry: { limit: 0 },
      stages: STAGES.map((name) => ({ name, baseModel: opts.tinyDir, dataset: `${name}.jsonl`, maxSteps: opts.steps,
        lora: { rank: 4, alpha: 8, dropout: 0, targetModules: ['all-linear'] } })),
    },
  };
  const file = path.join(dir, 'run.yaml');
  await writeFile(file, stringify(run));
  return file;
}

async function oneRun(opts: TrainingBenchOptions, log: (line: string) => void) {
  const dir = await mkdtemp(path.join(tmpdir(), 'fslm-bench-p8-'));
  try {
    const file = await writeRun(dir, opts);
    const config = parseTrainConfig(['--local', file, '--state-dir', path.join(dir, 'state'), '--python', opts.python], {});
    if ('help' in config) throw new Error('unreachable');
    const t0 = performance.now();
    const { code, run } = await trainLocal(config, (line) => log(`P8 ${line}`));
    const wall = (performance.now() - t0) / 1000;
    if (code !== 0 || !run?.status?.stages) throw new Error(`P8 training run failed (exit ${code}): ${run?.status?.message ?? ''}`);
    const stages = run.status.stages;
    const seconds = stages.map(stageSeconds);
    const [a, b] = stages;
    const overlap = Math.max(0, Math.min(Date.parse(a.finishTime!), Date.parse(b.finishTime!)) - Math.max(Date.parse(a.startTime!), Date.parse(b.startTime!))) / 1000;
    return { wall, slowest: Math.max(...seconds), sum: seconds.reduce((x, y) => x + y, 0), seconds, overlap };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function trainingFigures(opts: TrainingBenchOptions, log: (line: string) => void): Promise<Figure[]> {
  const runs = [];
  for (let i = 0; i < opts.rounds; i++) runs.push(await oneRun(opts, log));
  const ratios = runs.map((r) => r.wall / r.slowest);
  const value = median(ratios);
  return [atMost('P8', 'training run wall time vs its slowest stage (2 independent stages in parallel, local executor)', value, 1.15, 'x', {
    model: 'tiny', stages: STAGES.length, steps: opts.steps, rounds: opts.rounds, torch_threads_per_stage: 1,
    ratios: ratios.map((r) => round(r)),
    run_wall_s: runs.map((r) => round(r.wall, 2)),
    slowest_stage_s: runs.map((r) => round(r.slowest, 2)),
    stage_s: runs.map((r) => r.seconds.map((s) => round(s, 2))),
    stages_overlap_s: runs.map((r) => round(r.overlap, 2)),
    run_vs_sum_of_stages: runs.map((r) => round(r.wall / r.sum)),
    measured: 'run wall: trainLocal() from reading RUN.yaml to the final status; stage: its process start to exit, from status',
  })];
}

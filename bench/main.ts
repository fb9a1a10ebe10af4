// `fslm bench`: the performance suite; prints each figure and writes bench/results/latest.json.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import { fslmCommand, parseCommandLine, positiveInteger } from '../services/shared/command-line.ts';
import { onTerminationSignal, signalExitCode } from '../services/shared/process-lifetime.ts';
import { liveChildren, runScript } from '../services/cli/up-processes.ts';
import { isPrecision, PRECISIONS, type Precision } from '../services/stage/src/artifact.ts';
import { benchTokenizer, loadAverage } from './bench-prompts.ts';
import { engineFigures, type BenchModel, type EngineBenchOptions, type PrecisionRun } from './engine-figures.ts';
import { writeResults, type Figure } from './figure.ts';
import { profileFigures, profileLines } from './profile-figures.ts';
import { genaiFigure, llamaCppFigure, memoryFigure, smollmGgufs } from './peer-figures.ts';
import { startPythonPeer } from './peers/python-peer.ts';
import { startServedStage } from './served-stage.ts';
import { stackFigures } from './stack-figures.ts';
import { trainingFigures } from './training-figures.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The models the suite can measure (each has an ONNX export and a PyTorch reference in scripts/models). */
const BENCH_MODELS = ['tiny', 'smollm2-135m'];

interface BenchOptions {
  quick?: boolean;
  models: string[];
  precisions: Precision[];
  threads: number;
  skipTraining?: boolean;
  skipStack?: boolean;
  profile?: boolean;
  out?: string;
}

function benchCommand() {
  return fslmCommand('fslm bench', 'Run the performance suite; print each figure and write the results as JSON.')
    .option('--quick', 'fewer rounds and tokens')
    .addOption(new Option('--models <LIST>', `comma-separated models to measure the engine on (of ${BENCH_MODELS.join(', ')})`)
      .argParser((list: string) => {
        const names = list.split(',').filter(Boolean);
        const unknown = names.filter((n) => !BENCH_MODELS.includes(n));
        if (names.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`Expected a comma-separated list of ${BENCH_MODELS.join(', ')}.`);
        return names;
      })
      .default(BENCH_MODELS, BENCH_MODELS.join(',')))
    .addOption(new Option('--precisions <LIST>', `comma-separated precisions to serve the models at (of ${PRECISIONS.join(', ')})`)
      .argParser((list: string) => {
        const names = list.split(',').filter(Boolean);
        if (names.length === 0 || !names.every(isPrecision)) throw new InvalidArgumentError(`Expected a comma-separated list of ${PRECISIONS.join(', ')}.`);
        return names;
      })
      .default([...PRECISIONS], PRECISIONS.join(',')))
    .option('--threads <N>', 'intra-op threads of the engine figures', positiveInteger, 1)
    .option('--skip-training', 'leave out the training figures')
    .option('--skip-stack', 'leave out the stack figures')
    .option('--profile', 'instead of the figures: where a SmolLM2 decode step spends its time (onnxruntime\'s profiler, per precision), written to bench/results/profile.json')
    .option('--out <FILE>', 'where to write the results (default bench/results/latest.json, or profile.json with --profile)');
}

async function buildModels(onlyTiny: boolean): Promise<Record<string, string>> {
  // The bench measures the base and tiny models, never the trained default stack.
  const out = await runScript(path.join(ROOT, 'scripts/models'), ['--only', onlyTiny ? 'tiny' : 'base'], { group: true });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function pythonPath(): string {
  return execFileSync('bash', ['-c', `source "${ROOT}/scripts/lib.sh" && echo "$FSLM_PY"`], { encoding: 'utf8' }).trim();
}

/** Every figure of one model: P2-P5, P9 and P12 at each precision; P10 and P11 on SmolLM2. */
async function modelFigures(model: BenchModel, precisions: Precision[], options: EngineBenchOptions, log: (l: string) => void, done: (f: Figure[]) => Promise<void>): Promise<void> {
  const tokenizer = await benchTokenizer(model.onnxDir);
  const p16 = tokenizer.prompt(16);
  const p512 = tokenizer.prompt(512);
  const smollm = model.name === 'smollm2-135m';
  const ggufs = smollm ? smollmGgufs(options.python) : null;
  const torch = await startPythonPeer(options.python, ['torch', '--model', model.hfDir, '--threads', String(options.threads)]);
  try {
    const fp32Ids = (await torch.generate(p16.ids, options.tokens)).ids;
    for (const precision of precisions) {
      const stage = await startServedStage(model.onnxDir, precision);
      try {
        const run: PrecisionRun = { model, precision, stage, tokenizer, p16, p512, fp32Ids, torch, options, log };
        const figures = await engineFigures(run);
        figures.push(await memoryFigure(run));
        if (ggufs && precision !== 'fp32') figures.push(await llamaCppFigure(run, ggufs[precision]));
        // onnxruntime-genai is the ceiling for the fused graphs; --quick skips it on the float32 export.
        if (smollm && !(options.quick && precision === 'fp32')) figures.push(await genaiFigure(run));
        await done(figures);
      } finally {
        await stage.stop();
      }
    }
  } finally {
    await torch.close();
  }
}

export async function runBench(argv: string[]): Promise<number> {
  const line = parseCommandLine<BenchOptions>(benchCommand(), argv);
  if (!line.ok) return line.exitCode;
  const values = line.opts;
  const started = performance.now();
  const log = (text: string) => console.error(`[bench ${Math.round((performance.now() - started) / 1000)}s, load ${loadAverage()}] ${text}`);
  // Whatever signal ends the bench stops the processes it started (each tied to this process as well).
  onTerminationSignal((signal) => {
    log(`${signal}: stopping ${liveChildren().length} child process(es)`);
    void Promise.all(liveChildren().map((c) => c.stop())).then(() => process.exit(signalExitCode(signal)));
  });
  const quick = values.quick === true;
  if (values.profile) {
    const paths = await buildModels(false);
    const profiles = await profileFigures({
      onnxDir: paths['smollm2-135m-onnx'], python: pythonPath(), precisions: values.precisions,
      steps: quick ? 8 : 16, rounds: quick ? 1 : 3, log,
    });
    const out = values.out ?? path.join(ROOT, 'bench/results/profile.json');
    await writeResults(out, [], { quick, profiles, load_average_1m_at_end: loadAverage(), wall_s: Math.round((performance.now() - started) / 1000) });
    for (const line of profileLines(profiles)) console.log(line);
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
    return 0;
  }
  const resultsFile = values.out ?? path.join(ROOT, 'bench/results/latest.json');
  const names = values.models;
  const paths = await buildModels(names.every((n) => n === 'tiny'));
  const threads = values.threads;
  const figures: Figure[] = [];
  const save = async (more: Figure[]) => {
    figures.push(...more);
    await writeResults(resultsFile, figures, { quick, load_average_1m_at_end: loadAverage(), wall_s: Math.round((performance.now() - started) / 1000) });
  };
  for (const name of names) {
    const model: BenchModel = { name, onnxDir: paths[`${name}-onnx`], hfDir: paths[name], overheadBound: name === 'tiny' };
    if (!model.onnxDir) throw new Error(`unknown bench model ${name}`);
    const tiny = name === 'tiny';
    const options: EngineBenchOptions = {
      threads, python: pythonPath(), quick,
      rounds: quick ? 3 : tiny ? 9 : 5,
      tokens: tiny ? (quick ? 64 : 128) : quick ? 16 : 32,
    };
    // --quick measures the tiny model (per-token overhead) at fp32 only; SmolLM2 at every precision asked for.
    await modelFigures(model, tiny && quick ? ['fp32'] : values.precisions, options, log, save);
  }
  if (!values.skipTraining) {
    await save(await trainingFigures({ tinyDir: paths.tiny, python: pythonPath(), steps: quick ? 3 : 6, rounds: quick ? 1 : 2 }, log));
  }
  if (!values.skipStack) {
    const models = paths['smollm2-135m-onnx'] ? paths : await buildModels(false);
    await save(await stackFigures({ quick, tinyDir: models['tiny-onnx'], smollmDir: models['smollm2-135m-onnx'] }, log));
  }
  for (const f of figures) console.log(`${f.id.padEnd(4)} ${f.met ? 'met ' : 'MISS'} ${String(f.value).padStart(8)} ${f.unit.padEnd(3)} goal ${f.goal.padEnd(7)} ${f.name}`);
  console.log(`load average (1 min) at the end: ${loadAverage()}; wall ${Math.round((performance.now() - started) / 1000)} s`);
  console.log(`wrote ${path.relative(process.cwd(), resultsFile)}`);
  return 0;
}

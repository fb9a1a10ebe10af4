// `fslm bench`: the performance suite; prints each figure and writes bench/results/latest.json.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import { fslmCommand, parseCommandLine, positiveInteger } from '../services/shared/command-line.ts';
import { onTerminationSignal, signalExitCode } from '../services/shared/process-lifetime.ts';
import { liveChildren, runScript } from '../services/cli/up-processes.ts';
import { engineFigures, type BenchModel } from './engine-figures.ts';
import { writeResults, type Figure } from './figure.ts';
import { stackFigures } from './stack-figures.ts';
import { trainingFigures } from './training-figures.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The models the suite can measure (each has an ONNX export and a PyTorch reference in scripts/models). */
const BENCH_MODELS = ['tiny', 'smollm2-135m'];

interface BenchOptions {
  quick?: boolean;
  models: string[];
  threads: number;
  skipTraining?: boolean;
  skipStack?: boolean;
  out: string;
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
    .option('--threads <N>', 'intra-op threads of the engine figures', positiveInteger, 1)
    .option('--skip-training', 'leave out the training figures')
    .option('--skip-stack', 'leave out the stack figures')
    .option('--out <FILE>', 'where to write the results', path.join(ROOT, 'bench/results/latest.json'));
}

async function buildModels(onlyTiny: boolean): Promise<Record<string, string>> {
  const out = await runScript(path.join(ROOT, 'scripts/models'), onlyTiny ? ['--only', 'tiny'] : [], { group: true });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function pythonPath(): string {
  return execFileSync('bash', ['-c', `source "${ROOT}/scripts/lib.sh" && echo "$FSLM_PY"`], { encoding: 'utf8' }).trim();
}

export async function runBench(argv: string[]): Promise<number> {
  const line = parseCommandLine<BenchOptions>(benchCommand(), argv);
  if (!line.ok) return line.exitCode;
  const values = line.opts;
  const log = (text: string) => console.error(`[bench] ${text}`);
  // Whatever signal ends the bench stops the processes it started (each tied to this process as well).
  onTerminationSignal((signal) => {
    log(`${signal}: stopping ${liveChildren().length} child process(es)`);
    void Promise.all(liveChildren().map((c) => c.stop())).then(() => process.exit(signalExitCode(signal)));
  });
  const names = values.models;
  const quick = values.quick === true;
  const paths = await buildModels(names.every((n) => n === 'tiny'));
  const threads = values.threads;
  const figures: Figure[] = [];
  for (const name of names) {
    const model: BenchModel = { name, onnxDir: paths[`${name}-onnx`], hfDir: paths[name], overheadBound: name === 'tiny' };
    if (!model.onnxDir) throw new Error(`unknown bench model ${name}`);
    const tiny = name === 'tiny';
    const rounds = quick ? 3 : tiny ? 9 : 5;
    const tokens = tiny ? 128 : quick ? 16 : 32;
    figures.push(...(await engineFigures(model, { threads, rounds, tokens, python: pythonPath() }, log)));
    await writeResults(values.out, figures, { quick: quick });
  }
  if (!values.skipTraining) {
    figures.push(...(await trainingFigures({ tinyDir: paths.tiny, python: pythonPath(), steps: quick ? 3 : 6, rounds: quick ? 1 : 2 }, log)));
    await writeResults(values.out, figures, { quick: quick });
  }
  if (!values.skipStack) {
    const models = paths['smollm2-135m-onnx'] ? paths : await buildModels(false);
    figures.push(...(await stackFigures({ quick: quick, tinyDir: models['tiny-onnx'], smollmDir: models['smollm2-135m-onnx'] }, log)));
    await writeResults(values.out, figures, { quick: quick });
  }
  for (const f of figures) console.log(`${f.id.padEnd(4)} ${f.met ? 'met ' : 'MISS'} ${String(f.value).padStart(8)} ${f.unit.padEnd(3)} goal ${f.goal.padEnd(7)} ${f.name}`);
  console.log(`wrote ${path.relative(process.cwd(), values.out)}`);
  return 0;
}

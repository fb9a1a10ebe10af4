// `fslm bench`: the performance suite; prints each figure and writes bench/results/latest.json.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isPrecision, type Precision } from '../services/stage/src/artifact.ts';
import { benchTokenizer, loadAverage } from './bench-prompts.ts';
import { engineFigures, type BenchModel, type EngineBenchOptions, type PrecisionRun } from './engine-figures.ts';
import { writeResults, type Figure } from './figure.ts';
import { genaiFigure, llamaCppFigure, memoryFigure, smollmGgufs } from './peer-figures.ts';
import { startPythonPeer } from './peers/python-peer.ts';
import { startServedStage } from './served-stage.ts';
import { stackFigures } from './stack-figures.ts';
import { trainingFigures } from './training-figures.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function buildModels(onlyTiny: boolean): Record<string, string> {
  const out = execFileSync(path.join(ROOT, 'scripts/models'), onlyTiny ? ['--only', 'tiny'] : [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
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
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      models: { type: 'string', default: 'tiny,smollm2-135m' },
      precisions: { type: 'string', default: 'fp32,int8,int4' },
      threads: { type: 'string', default: '1' },
      'skip-training': { type: 'boolean', default: false },
      'skip-stack': { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(ROOT, 'bench/results/latest.json') },
    },
  });
  const names = values.models!.split(',').filter(Boolean);
  const precisions = values.precisions!.split(',').filter(Boolean);
  const unknown = precisions.filter((p) => !isPrecision(p));
  if (unknown.length > 0) throw new Error(`--precisions: unknown ${unknown.join(', ')} (known: fp32, int8, int4)`);
  const paths = buildModels(names.every((n) => n === 'tiny'));
  const threads = Number(values.threads);
  const started = performance.now();
  const log = (line: string) => console.error(`[bench ${Math.round((performance.now() - started) / 1000)}s, load ${loadAverage()}] ${line}`);
  const figures: Figure[] = [];
  const save = async (more: Figure[]) => {
    figures.push(...more);
    await writeResults(values.out!, figures, { quick: values.quick, load_average_1m_at_end: loadAverage(), wall_s: Math.round((performance.now() - started) / 1000) });
  };
  for (const name of names) {
    const model: BenchModel = { name, onnxDir: paths[`${name}-onnx`], hfDir: paths[name], overheadBound: name === 'tiny' };
    if (!model.onnxDir) throw new Error(`unknown bench model ${name}`);
    const tiny = name === 'tiny';
    const options: EngineBenchOptions = {
      threads, python: pythonPath(), quick: values.quick!,
      rounds: values.quick ? 3 : tiny ? 9 : 5,
      tokens: tiny ? (values.quick ? 64 : 128) : values.quick ? 16 : 32,
    };
    // --quick measures the tiny model (per-token overhead) at fp32 only; SmolLM2 at every precision.
    await modelFigures(model, tiny && values.quick ? (['fp32'] as Precision[]) : (precisions as Precision[]), options, log, save);
  }
  if (!values['skip-training']) {
    await save(await trainingFigures({ tinyDir: paths.tiny, python: pythonPath(), steps: values.quick ? 3 : 6, rounds: values.quick ? 1 : 2 }, log));
  }
  if (!values['skip-stack']) {
    const models = paths['smollm2-135m-onnx'] ? paths : buildModels(false);
    await save(await stackFigures({ quick: values.quick!, tinyDir: models['tiny-onnx'], smollmDir: models['smollm2-135m-onnx'] }, log));
  }
  for (const f of figures) console.log(`${f.id.padEnd(4)} ${f.met ? 'met ' : 'MISS'} ${String(f.value).padStart(8)} ${f.unit.padEnd(3)} goal ${f.goal.padEnd(7)} ${f.name}`);
  console.log(`load average (1 min) at the end: ${loadAverage()}; wall ${Math.round((performance.now() - started) / 1000)} s`);
  console.log(`wrote ${path.relative(process.cwd(), values.out!)}`);
  return 0;
}

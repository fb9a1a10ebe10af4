// `fslm bench`: the performance suite; prints each figure and writes bench/results/latest.json.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { engineFigures, type BenchModel } from './engine-figures.ts';
import { writeResults, type Figure } from './figure.ts';
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

export async function runBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      models: { type: 'string', default: 'tiny,smollm2-135m' },
      threads: { type: 'string', default: '1' },
      'skip-training': { type: 'boolean', default: false },
      'skip-stack': { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(ROOT, 'bench/results/latest.json') },
    },
  });
  const names = values.models!.split(',').filter(Boolean);
  const paths = buildModels(names.every((n) => n === 'tiny'));
  const threads = Number(values.threads);
  const log = (line: string) => console.error(`[bench] ${line}`);
  const figures: Figure[] = [];
  for (const name of names) {
    const model: BenchModel = { name, onnxDir: paths[`${name}-onnx`], hfDir: paths[name], overheadBound: name === 'tiny' };
    if (!model.onnxDir) throw new Error(`unknown bench model ${name}`);
    const tiny = name === 'tiny';
    const rounds = values.quick ? 3 : tiny ? 9 : 5;
    const tokens = tiny ? 128 : values.quick ? 16 : 32;
    figures.push(...(await engineFigures(model, { threads, rounds, tokens, python: pythonPath() }, log)));
    await writeResults(values.out!, figures, { quick: values.quick });
  }
  if (!values['skip-training']) {
    figures.push(...(await trainingFigures({ tinyDir: paths.tiny, python: pythonPath(), steps: values.quick ? 3 : 6, rounds: values.quick ? 1 : 2 }, log)));
    await writeResults(values.out!, figures, { quick: values.quick });
  }
  if (!values['skip-stack']) {
    const models = paths['smollm2-135m-onnx'] ? paths : buildModels(false);
    figures.push(...(await stackFigures({ quick: values.quick, tinyDir: models['tiny-onnx'], smollmDir: models['smollm2-135m-onnx'] }, log)));
    await writeResults(values.out!, figures, { quick: values.quick });
  }
  for (const f of figures) console.log(`${f.id.padEnd(4)} ${f.met ? 'met ' : 'MISS'} ${String(f.value).padStart(8)} ${f.unit.padEnd(3)} goal ${f.goal.padEnd(7)} ${f.name}`);
  console.log(`wrote ${path.relative(process.cwd(), values.out!)}`);
  return 0;
}

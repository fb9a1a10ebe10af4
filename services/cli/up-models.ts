// The model artifacts of a stack for `fslm up`: each stage's `model` is an artifact directory (relative
// to the stack file), a model URI (`file://` used in place, `s3://` fetched once per version into the
// model store's cache, every sha256 checked) or a name that scripts/models builds. Every one is checked with the stage's own
// artifact checker before anything starts, so a model that cannot be served (a PyTorch base without
// fslm.json, a missing directory, a changed file) is refused up front, naming only models that serve.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../shared/errors.ts';
import { isUri, localModelDir, readModelStoreEnvironment, type ModelStoreOptions } from '../model-store/index.ts';
import { loadArtifact, MANIFEST_FILE } from '../stage/src/index.ts';
import type { StackDefinition } from '../router/src/index.ts';

/** Every reason the stack's models cannot be served, one line each (`stage NAME: model "M": why`). */
export class UnservableModelsError extends Error {
  constructor(readonly problems: string[], readonly servable: string[] | undefined) {
    super([
      'the stack names models that cannot be served:',
      ...problems.map((p) => `  ${p}`),
      servable === undefined
        ? `  a stage's model is an ONNX artifact directory (holding ${MANIFEST_FILE}, as \`fslm trainer export\` writes), a file:// or s3:// model URI, or a model name from scripts/models`
        : `  model names that serve: ${servable.length > 0 ? servable.join(', ') : '(none built)'}; or an ONNX artifact directory (holding ${MANIFEST_FILE}); or a file:// or s3:// model URI`,
    ].join('\n'));
    this.name = 'UnservableModelsError';
  }
}

/** A model value that can only mean a directory (a bare word may also be a scripts/models name). */
const looksLikePath = (model: string): boolean => model.includes('/') || model.includes(path.sep) || model.startsWith('.') || model.startsWith('~');

/**
 * The artifact directory of each stage (by stage name), each one checked as `fslm stage` will load it.
 * `listModels(names)` builds the named models that scripts/models knows (it is called only when a stage names a
 * model rather than a directory) and returns {name: directory} for every name scripts/models builds, built or not.
 * @throws UnservableModelsError listing every stage whose model cannot be served.
 */
export async function resolveStackModels(
  stack: StackDefinition, stackFile: string, listModels: (names: string[]) => Promise<Record<string, string>>,
  store: ModelStoreOptions = readModelStoreEnvironment(),
): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  const problems: string[] = [];
  for (const stage of stack.stages.filter((s) => isUri(s.model))) {
    await localModelDir(stage.model, store).then(
      (local) => void dirs.set(stage.name, local.dir),
      (error: unknown) => void problems.push(`stage ${stage.name}: model ${JSON.stringify(stage.model)}: ${errorMessage(error)}`),
    );
  }
  const named = stack.stages.filter((stage) => {
    if (isUri(stage.model)) return false;
    const candidate = path.resolve(path.dirname(stackFile), stage.model);
    if (existsSync(candidate)) dirs.set(stage.name, candidate);
    else if (looksLikePath(stage.model)) problems.push(`stage ${stage.name}: model ${JSON.stringify(stage.model)}: no such directory ${candidate}`);
    else return true;
    return false;
  });
  let servable: string[] | undefined;
  if (named.length > 0) {
    const models = await listModels(named.map((stage) => stage.model));
    // scripts/models names every ONNX artifact it builds *-onnx (built or not: it builds one when asked).
    servable = Object.keys(models).filter((name) => name.endsWith('-onnx')).sort();
    for (const stage of named) {
      if (Object.hasOwn(models, stage.model)) dirs.set(stage.name, models[stage.model]);
      else problems.push(`stage ${stage.name}: model ${JSON.stringify(stage.model)} is neither a directory (relative to ${path.dirname(stackFile)}) nor a model name`);
    }
  }
  // Each artifact is checked at the precision its stage serves (the file `fslm stage --precision` loads).
  const checked = new Map<string, Promise<string | null>>();
  const check = (dir: string, precision: StackDefinition['stages'][number]['precision']) =>
    loadArtifact(dir, precision).then(() => null, (error: unknown) => errorMessage(error));
  for (const stage of stack.stages) {
    const dir = dirs.get(stage.name);
    if (dir === undefined) continue;
    const key = `${stage.precision}:${dir}`;
    if (!checked.has(key)) checked.set(key, check(dir, stage.precision));
    const problem = await checked.get(key)!;
    if (problem) {
      const hint = existsSync(path.join(dir, MANIFEST_FILE)) ? '' : ` (no ${MANIFEST_FILE}: not an ONNX artifact; a PyTorch base model is exported with \`fslm trainer export\`)`;
      problems.push(`stage ${stage.name}: model ${JSON.stringify(stage.model)} (${dir}) cannot be served${hint}: ${problem}`);
    }
  }
  if (problems.length > 0) {
    const order = (problem: string) => stack.stages.findIndex((stage) => problem.startsWith(`stage ${stage.name}:`));
    throw new UnservableModelsError(problems.sort((a, b) => order(a) - order(b)), servable);
  }
  return dirs;
}

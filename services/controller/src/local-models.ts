// Base models and datasets of a local run, as the trainer on this machine can read them. A base model
// is a local HF directory (a path or file:// URI, relative to the run file's directory), `tiny` (the
// test model scripts/models builds and caches), or anything else, passed on unchanged: the trainer
// itself fetches its known bases (`smollm2-135m`) and hub ids, or refuses the name (exit 2).
// Datasets: paths become absolute file:// URIs; URIs pass unchanged.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { errors } from '../../shared/errors.ts';

const run = promisify(execFile);

/** Names scripts/models builds as HF directories that the trainer does not know itself. */
export const SCRIPT_MODELS = ['tiny'] as const;
export const MODELS_SCRIPT = fileURLToPath(new URL('../../../scripts/models', import.meta.url));

const hasScheme = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/** A local path for `ref` (a path or file:// URI, relative to `baseDir`), or undefined when it names something else. */
export function localPath(ref: string, baseDir: string): string | undefined {
  if (ref.startsWith('file://')) return fileURLToPath(ref);
  if (hasScheme(ref)) return undefined;
  return path.resolve(baseDir, ref);
}

export function datasetUri(ref: string, baseDir: string): string {
  const p = localPath(ref, baseDir);
  return p === undefined ? ref : pathToFileURL(p).href;
}

export type ModelPaths = Record<string, string>;

/** Runs scripts/models (builds what is missing; minutes the first time) and returns its JSON map. */
export async function scriptModels(log?: (line: string) => void): Promise<ModelPaths> {
  log?.(`building base models with scripts/models --only tiny (cached after the first time)`);
  try {
    const { stdout } = await run(MODELS_SCRIPT, ['--only', 'tiny'], { maxBuffer: 1 << 24 });
    return JSON.parse(stdout.trim().split('\n').pop()!) as ModelPaths;
  } catch (e) {
    throw errors.unavailable(`scripts/models failed: ${(e as { stderr?: string }).stderr?.trim().split('\n').pop() ?? String(e)}`, e);
  }
}

/**
 * What each base model reference resolves to: an existing local directory (absolute path), a
 * scripts/models build, or the reference itself. `models` is only called when a name needs it.
 */
export async function resolveBaseModels(refs: readonly string[], baseDir: string, models: () => Promise<ModelPaths>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let built: ModelPaths | undefined;
  for (const ref of new Set(refs)) {
    const p = localPath(ref, baseDir);
    if (p !== undefined && existsSync(p)) out.set(ref, p);
    else if ((SCRIPT_MODELS as readonly string[]).includes(ref)) {
      built ??= await models();
      out.set(ref, built[ref]);
    } else if (ref.startsWith('file://')) out.set(ref, p!);
    else out.set(ref, ref);
  }
  return out;
}

// Test models: built once by scripts/models (cached by content hash outside the repo) and shared by all
// tests, the Python trainer's included. FSLM_TEST_MODELS=FILE (the JSON object scripts/models prints, as
// scripts/test writes it) points every test at one build without running scripts/models again.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Absolute paths of the test models, by the names scripts/models gives them. */
export interface TestModels {
  'smollm2-135m': string;
  'smollm2-135m-onnx': string;
  'smollm2-135m-ref': string;
  tiny: string;
  'tiny-onnx': string;
  'tiny-ref': string;
}

const NEEDED: Record<'all' | 'tiny', Array<keyof TestModels>> = {
  all: ['smollm2-135m', 'smollm2-135m-onnx', 'smollm2-135m-ref', 'tiny', 'tiny-onnx', 'tiny-ref'],
  tiny: ['smollm2-135m', 'tiny', 'tiny-onnx', 'tiny-ref'],
};
/** A cold build of every model takes a few minutes here; an hour means something is stuck. */
const BUILD_TIMEOUT_MS = 60 * 60_000;

const cached = new Map<string, TestModels>();

function built(only: 'all' | 'tiny'): TestModels {
  const given = process.env.FSLM_TEST_MODELS;
  if (given) return JSON.parse(readFileSync(given, 'utf8')) as TestModels;
  const args = ['--only', only === 'tiny' ? 'tiny' : 'base'];
  const out = execFileSync(path.join(REPO_ROOT, 'scripts/models'), args, {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24, timeout: BUILD_TIMEOUT_MS, killSignal: 'SIGTERM',
  });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as TestModels;
}

/**
 * Paths of the test models; builds what is missing (the first full run exports SmolLM2, a few minutes).
 * `only: 'tiny'` builds just the tiny model and what it needs.
 * @throws when scripts/models fails or runs past an hour, or when FSLM_TEST_MODELS lacks a needed model.
 */
export function testModels(only: 'all' | 'tiny' = 'all'): TestModels {
  let models = cached.get(only);
  if (!models) {
    models = built(only);
    const missing = NEEDED[only].filter((name) => !models![name]);
    if (missing.length) throw new Error(`test models missing ${missing.join(', ')} (FSLM_TEST_MODELS=${process.env.FSLM_TEST_MODELS ?? ''}): run scripts/models`);
    cached.set(only, models);
  }
  return models;
}

// Test models: built once by scripts/models (cached by content hash outside the repo) and shared by all tests.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface TestModels {
  'smollm2-135m': string;
  'smollm2-135m-onnx': string;
  'smollm2-135m-ref': string;
  tiny: string;
  'tiny-onnx': string;
  'tiny-ref': string;
}

const cached = new Map<string, TestModels>();

/**
 * Paths of the test models; builds what is missing (the first full run exports SmolLM2, a few minutes).
 * `only: 'tiny'` builds just the tiny model and what it needs.
 */
export function testModels(only: 'all' | 'tiny' = 'all'): TestModels {
  let models = cached.get(only);
  if (!models) {
    const args = only === 'tiny' ? ['--only', 'tiny'] : [];
    const out = execFileSync(path.join(REPO_ROOT, 'scripts/models'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
    const lines = out.trim().split('\n');
    models = JSON.parse(lines[lines.length - 1]) as TestModels;
    cached.set(only, models);
  }
  return models;
}

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

let cached: TestModels | null = null;

/** Paths of the test models; builds what is missing (the first run exports SmolLM2, a few minutes). */
export function testModels(): TestModels {
  if (cached) return cached;
  const out = execFileSync(path.join(REPO_ROOT, 'scripts/models'), [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  const lines = out.trim().split('\n');
  cached = JSON.parse(lines[lines.length - 1]) as TestModels;
  return cached;
}

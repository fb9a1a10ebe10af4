// Test helpers for the model store: artifact directories with a real fslm.json, and `fslm model` as a
// child process (its exit status, stdout JSON and stderr).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Writes an artifact directory in the stage layout (config/tokenizer JSON, onnx/model.onnx) with random
 * contents and an fslm.json listing the sha256 of every file. Returns the manifest text.
 */
export async function makeArtifact(dir: string, seed = 'a'): Promise<string> {
  const files: Record<string, Buffer> = {
    'config.json': Buffer.from(JSON.stringify({ model_type: 'llama', seed })),
    'tokenizer.json': Buffer.from(JSON.stringify({ version: '1.0', seed })),
    'onnx/model.onnx': randomBytes(300_000),
  };
  const sums: Record<string, string> = {};
  for (const [rel, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), bytes);
    sums[rel] = createHash('sha256').update(bytes).digest('hex');
  }
  const manifest = JSON.stringify({ format: 1, name: `test-${seed}`, stage: 'final', files: sums, created: new Date().toISOString() }, null, 2);
  await writeFile(path.join(dir, 'fslm.json'), manifest);
  return manifest;
}

/** Every file under `dir` with its bytes, keyed by '/'-separated relative path. */
export async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else out.set(path.relative(dir, full).split(path.sep).join('/'), await readFile(full));
    }
  };
  await walk(dir);
  return out;
}

/** True when `p` exists. */
export async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** The outcome of one `fslm model …` run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json?: Record<string, unknown>;
}

/** Runs `fslm model ARGS…` (bounded by `timeoutMs`) with extra environment. */
export function fslmModel(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), 'model', ...args], { env: { ...process.env, ...env }, timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        const last = stdout.trim().split('\n').pop() ?? '';
        let json: Record<string, unknown> | undefined;
        try {
          json = last ? JSON.parse(last) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ code, stdout, stderr, json });
      });
  });
}

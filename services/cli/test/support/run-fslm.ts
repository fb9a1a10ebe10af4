// Runs the real `fslm` command (bin/fslm.js) as a child process, bounded, and returns how it ended.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const FSLM_BIN = path.join(REPO_ROOT, 'bin/fslm.js');

export interface FslmRun {
  /** Exit code (null when a signal ended it). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `fslm ARGS` to its end; killed (SIGKILL) after `timeoutMs` (default 60 s), which then fails the caller's assertions. */
export function runFslm(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<FslmRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [FSLM_BIN, ...args], {
      cwd: REPO_ROOT, env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 60_000, killSignal: 'SIGKILL', maxBuffer: 1 << 22,
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

// Starts fslm commands as real child processes for tests and waits for their "listening" line.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { REPO_ROOT } from './models.ts';

export interface Started {
  child: ChildProcess;
  /** The JSON line the command printed once ready. */
  ready: Record<string, unknown>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startFslm(args: string[], readyEvent = 'listening', timeoutMs = 120_000): Promise<Started> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fslm ${args.join(' ')} not ready after ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const event = JSON.parse(line);
        if (event.event === readyEvent) {
          clearTimeout(timer);
          resolve(event);
        }
      } catch {
        // not a JSON line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`fslm ${args.join(' ')} exited with ${code}\n${stderr}`));
    });
  });
  return {
    child,
    ready,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

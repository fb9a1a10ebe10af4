// An `fslm` command whose whole output (stdout and stderr, from its first line) goes to a file, for tests
// that must read everything a process printed (e.g. to show that no secret appears in it).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../support/models.ts';
import { waitFor } from '../../support/wait.ts';

export interface LoggedProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  exited: Promise<number | null>;
  /** The first JSON line with `"event": event`, once printed; rejects if the process exits first or after `timeoutMs`. */
  event(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function startLogged(dir: string, name: string, args: string[], env: Record<string, string> = {}): LoggedProcess {
  const file = path.join(dir, `${name}.log`);
  const fd = openSync(file, 'w');
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const output = () => readFileSync(file, 'utf8');
  const find = (event: string) => output().split('\n').filter((l) => l.startsWith('{')).map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return {};
    }
  }).find((e) => e.event === event);
  return {
    child, output, exited,
    event: (event, timeoutMs = 120_000) => {
      let over = false;
      const found = waitFor(() => over || find(event), { timeoutMs, what: `${name} to print ${event}` });
      const died = exited.then((code) => {
        // One last look: the line may have been written just before the exit.
        const last = find(event);
        if (last) return last;
        throw new Error(`${name} exited with ${code} before printing ${event}:\n${output()}`);
      });
      return Promise.race([found, died]).finally(() => (over = true)) as Promise<Record<string, unknown>>;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

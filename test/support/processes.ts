// Starts fslm commands as real child processes for tests: waits for their ready line ("listening" by
// default) and keeps every JSON event they print afterwards (stage request logs), so tests can show
// what a process did. A process that is not ready in time is stopped before the start fails, stopping
// is bounded, and a process still running when the test process ends is stopped (see children.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { exitOf, stopChild, track, type ChildExit } from './children.ts';
import { REPO_ROOT } from './models.ts';

export interface FslmProcess {
  child: ChildProcess;
  ready: Record<string, unknown>;
  events: Array<Record<string, unknown>>;
  /** Resolves with the first event (already seen or coming) that matches; rejects after `timeoutMs` (default 60 s). */
  waitForEvent(match: (event: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<ChildExit>;
  /**
   * Sends `signal` (default SIGTERM) and resolves with how the process ended; SIGKILL follows after
   * `graceMs` (default 30 s), so a process that ignores its signal ends as `signal: 'SIGKILL'`.
   */
  stop(signal?: NodeJS.Signals, options?: { graceMs?: number }): Promise<ChildExit>;
}

/**
 * Runs `fslm ARGS` (bin/fslm.js) and resolves once it prints the JSON event `{"event": readyEvent}`
 * ("listening" by default). Rejects, after stopping the process, if it exits first or is not ready
 * within `timeoutMs` (default 120 s). `prefix` runs the command through another (e.g. `ip netns exec NS`
 * to run it on a host of hosts.ts; the process keeps its PID through the exec); `cwd` (default the
 * checkout) is where relative paths in `args` resolve.
 */
export async function startFslm(
  args: string[], options: { env?: Record<string, string>; readyEvent?: string; timeoutMs?: number; prefix?: string[]; cwd?: string } = {},
): Promise<FslmProcess> {
  const [command, ...commandArgs] = [...(options.prefix ?? []), process.execPath, path.join(REPO_ROOT, 'bin/fslm.js'), ...args];
  const child = track(spawn(command, commandArgs, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-6000)));
  const exited = exitOf(child);
  const events: Array<Record<string, unknown>> = [];
  const waiters = new Set<{ match: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    events.push(event);
    for (const w of waiters) {
      if (w.match(event)) {
        waiters.delete(w);
        w.resolve(event);
      }
    }
  });
  const waitForEvent = (match: (e: Record<string, unknown>) => boolean, timeoutMs = 60_000) => {
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (e: Record<string, unknown>) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`fslm ${args[0]}: no matching event after ${timeoutMs} ms; saw ${JSON.stringify(events.slice(-5))}\n${stderr}`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  };
  const readyEvent = options.readyEvent ?? 'listening';
  let ready: Record<string, unknown>;
  try {
    ready = await Promise.race([
      waitForEvent((e) => e.event === readyEvent, options.timeoutMs ?? 120_000),
      exited.then(({ code, signal }) => {
        throw new Error(`fslm ${args.join(' ')} exited (${code ?? signal}) before it was ready\n${stderr}`);
      }),
    ]);
  } catch (error) {
    // A failed start stops what it started (fslm stops its own children on SIGTERM).
    await stopChild(child, { graceMs: 30_000 });
    throw error;
  }
  return {
    child,
    ready,
    events,
    waitForEvent,
    exited,
    stop: (signal = 'SIGTERM', stopOptions = {}) => stopChild(child, { signal, graceMs: stopOptions.graceMs ?? 30_000 }),
  };
}

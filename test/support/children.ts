// Child processes started by tests: each one is stopped with a bound, and whatever is still running when
// the test process itself ends (a test failed before its cleanup, the runner's timeout stopped the file,
// Ctrl-C) is stopped as well, so no process outlives the test file that started it.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** How a child process ended: its exit code, or the signal that ended it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<ChildProcess>();
const cleanups = new Set<() => void>();
let installed = false;

/** True while `pid` names a process that has not exited (a zombie counts as exited). Linux only (/proc). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Synchronous, so it also runs from an 'exit' handler: SIGTERM to every live child, SIGKILL after 5 s. */
function stopEverything(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Best effort: the process is going away.
    }
  }
  const pids = [...live].map((c) => c.pid).filter((pid): pid is number => pid !== undefined && running(pid));
  live.clear();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + 5000;
  while (pids.some(running) && Date.now() < deadline) sleepSync(50);
  for (const pid of pids.filter(running)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', stopEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      stopEverything();
      process.exit(128 + constants.signals[signal]);
    });
  }
}

/**
 * Registers a child so that it is stopped (SIGTERM, then SIGKILL after 5 s) if the test process ends
 * while it still runs. Returns the child.
 */
export function track<C extends ChildProcess>(child: C): C {
  install();
  live.add(child);
  const forget = () => live.delete(child);
  child.once('exit', forget);
  child.once('error', forget);
  return child;
}

/**
 * Registers a synchronous cleanup (e.g. stopping a control plane that runs in its own session) to run if
 * the test process ends before it is unregistered. Returns the function that unregisters it.
 */
export function onTestProcessExit(cleanup: () => void): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** Resolves when the child has exited (at once if it already has; also when it failed to start). */
export function exitOf(child: ChildProcess): Promise<ChildExit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => {
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
  });
}

/**
 * Sends `signal` (default SIGTERM) and waits up to `graceMs` (default 10 s) for the child to exit; then
 * sends SIGKILL. Resolves with how it ended, so a caller that expects a clean exit sees `signal: 'SIGKILL'`
 * instead of waiting forever on a child that ignores its signal.
 */
export async function stopChild(child: ChildProcess, options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<ChildExit> {
  const exited = exitOf(child);
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill(options.signal ?? 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), options.graceMs ?? 10_000);
  });
  const first = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (first !== 'late') return first;
  child.kill('SIGKILL');
  return exited;
}

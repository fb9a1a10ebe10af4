// Processes that live and die with the fslm process that started them.
// - spawnTied: on Linux a child is started through util-linux's setpriv, which sets the kernel's
//   parent-death signal (prctl PR_SET_PDEATHSIG) and then execs the program under the same pid: if
//   its parent dies for any reason, SIGKILL included, the kernel sends the child SIGTERM.
// - watchParent: an fslm child that was told its parent's pid also checks that its parent is still
//   there (the portable half, and it covers a parent that died before the child started).
// - onTerminationSignal: SIGINT, SIGTERM and SIGHUP all mean "stop", and each stop has a bound.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';

/** The signal a child gets when the process that started it dies. */
export const PARENT_DEATH_SIGNAL = 'SIGTERM';
/** How often a child checks that its parent is still alive (watchParent). */
export const PARENT_CHECK_INTERVAL_MS = 500;
/** The signals that ask an fslm process to stop. */
export const TERMINATION_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type TerminationSignal = (typeof TERMINATION_SIGNALS)[number];

const SIGNAL_NUMBERS: Record<TerminationSignal, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** The conventional exit code of a process stopped by `signal` (128 + its number). */
export function signalExitCode(signal: TerminationSignal): number {
  return 128 + SIGNAL_NUMBERS[signal];
}

/** The executable `command` names (a path, or a name looked up on `searchPath`, a PATH value), or null if there is none. */
export function findExecutable(command: string, searchPath: string): string | null {
  const candidates = command.includes('/') ? [command] : searchPath.split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, command));
  for (const file of candidates) {
    try {
      accessSync(file, fsConstants.X_OK);
      return path.resolve(file);
    } catch {
      // not here
    }
  }
  return null;
}

let setpriv: string | null | undefined;

/**
 * The argv that runs `command args` with the parent-death signal set: `setpriv --pdeathsig TERM --
 * /path/to/command args` on Linux. Unchanged where setpriv is missing (other systems: watchParent is
 * then the only guard) and when `command` does not resolve, so that spawn still reports ENOENT itself.
 */
export function tiedArgv(command: string, args: readonly string[], searchPath: string): { command: string; args: string[] } {
  if (process.platform !== 'linux') return { command, args: [...args] };
  setpriv ??= findExecutable('setpriv', `${searchPath}${path.delimiter}/usr/bin${path.delimiter}/bin`);
  const program = setpriv ? findExecutable(command, searchPath) : null;
  if (!setpriv || !program) return { command, args: [...args] };
  return { command: setpriv, args: ['--pdeathsig', PARENT_DEATH_SIGNAL.slice(3), '--', program, ...args] };
}

/**
 * child_process.spawn for a child that must not outlive this process (see tiedArgv). The program is
 * looked up on the PATH of `options.env`, else of this process, as spawn itself does.
 */
export function spawnTied(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const argv = tiedArgv(command, args, (options.env ?? process.env).PATH ?? '');
  return spawn(argv.command, argv.args, options);
}

/**
 * Calls `onGone` once when this process's parent is no longer `parentPid` (it died and this process
 * was re-parented), including at once if that already happened. The check does not keep the process alive.
 */
export function watchParent(parentPid: number, onGone: () => void): () => void {
  if (process.ppid !== parentPid) {
    onGone();
    return () => undefined;
  }
  const timer = setInterval(() => {
    if (process.ppid === parentPid) return;
    clearInterval(timer);
    onGone();
  }, PARENT_CHECK_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Calls `handler` on SIGINT, SIGTERM or SIGHUP (each time one arrives); returns a function that removes it. */
export function onTerminationSignal(handler: (signal: TerminationSignal) => void): () => void {
  const listeners = TERMINATION_SIGNALS.map((signal) => [signal, () => handler(signal)] as const);
  for (const [signal, listener] of listeners) process.on(signal, listener);
  return () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
}

/**
 * Bounds this process's graceful stop: from the first SIGINT, SIGTERM or SIGHUP on, the process exits
 * with 128+signal after `boundMs` even if its shutdown is still waiting on something. A signal that no
 * other listener handles ends the process at once, as it would by default.
 */
export function boundShutdown(boundMs: number, log: (line: string) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const dispose = onTerminationSignal((signal) => {
    // Only this guard listens: nothing stops gracefully, so keep the default action (end now).
    if (process.listenerCount(signal) === 1) process.exit(signalExitCode(signal));
    if (timer) return;
    timer = setTimeout(() => {
      log(`${signal}: still stopping after ${boundMs} ms; exiting anyway`);
      process.exit(signalExitCode(signal));
    }, boundMs);
    timer.unref();
  });
  return () => {
    clearTimeout(timer);
    dispose();
  };
}

// The processes `fslm up` (and the bench) run: a child that announces itself with a JSON line,
// nats-server, and the setup scripts. Every one is tied to this process (it gets SIGTERM if this
// process dies, SIGKILL included: see process-lifetime.ts), and every stop is bounded (SIGTERM, then
// SIGKILL after a grace).
import { type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { spawnTied } from '../shared/process-lifetime.ts';

/** bin/fslm.js of this checkout. */
export const FSLM_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/fslm.js');
/** How long a child gets between SIGTERM and SIGKILL. */
export const DEFAULT_STOP_GRACE_MS = 10_000;
/** How long a child may take to print its ready line. */
export const DEFAULT_READY_TIMEOUT_MS = 180_000;

export interface Child {
  name: string;
  child: ChildProcess;
  /** The JSON line it printed once ready (rejects if it exits or times out first; the child is then stopped). */
  ready: Promise<Record<string, unknown>>;
  /** Its exit status: the exit code, or 128 + the signal's number when a signal ended it (as a shell reports it). */
  exited: Promise<number | null>;
  /** SIGTERM (to its process group when it has one), SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  /** Returns the ready event from a stdout or stderr line, or null. */
  readyWhen(line: string): Record<string, unknown> | null;
  /** Lines to show while running (stderr by default). */
  echo?(name: string, line: string, stream: 'stdout' | 'stderr'): void;
  timeoutMs?: number;
}

/** A started process that can be stopped. */
export type Stoppable = Pick<Child, 'name' | 'child' | 'stop'>;

const live = new Set<Stoppable>();

/** Every child started here that has not exited yet, oldest first. */
export function liveChildren(): Stoppable[] {
  return [...live];
}

/** The argv of an `fslm COMMAND ARGS` child that stops when this process is gone (run it with process.execPath). */
export function fslmArgs(command: string, args: string[]): string[] {
  return [FSLM_BIN, '--parent-pid', String(process.pid), command, ...args];
}

export function jsonEvent(event: string) {
  return (line: string): Record<string, unknown> | null => {
    if (!line.startsWith('{')) return null;
    try {
      const parsed = JSON.parse(line);
      return parsed?.event === event ? parsed : null;
    } catch {
      return null;
    }
  };
}

/** How a child ended, in words: "exited with 1" or "was killed by SIGKILL". */
export function howItEnded(child: ChildProcess, status: number | null): string {
  return child.signalCode ? `was killed by ${child.signalCode}` : `exited with ${status}`;
}

/** Wraps a started process as a Child; `group`: it leads its own process group, and a stop signals the group. */
function track(name: string, child: ChildProcess, group: boolean): Pick<Child, 'exited' | 'stop'> {
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : null)));
    child.once('error', () => {
      if (child.pid === undefined) resolve(null);
    });
  });
  const signal = (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      if (group && child.pid !== undefined) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      child.kill(sig);
    }
  };
  const stop = async (graceMs = DEFAULT_STOP_GRACE_MS) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const entry: Stoppable = { name, child, stop };
  live.add(entry);
  void exited.then(() => live.delete(entry));
  return { exited, stop };
}

/**
 * Spawns a child at once (so a caller can stop it even before it is ready). It runs in its own process
 * group, so a Ctrl-C at the terminal reaches only this process, which then stops its children in order.
 */
export function spawnChild(options: SpawnOptions): Child {
  const child = spawnTied(options.command, options.args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const { exited, stop } = track(options.name, child, false);
  const timeoutMs = options.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  let tail = '';
  let readyLine: Record<string, unknown> | null = null;
  const readyEvent = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.name} was not ready after ${timeoutMs} ms\n${tail}`)), timeoutMs);
    const watch = (stream: 'stdout' | 'stderr') => (line: string) => {
      if (!readyLine) {
        tail = (tail + line + '\n').slice(-4000);
        const event = options.readyWhen(line);
        if (event) {
          readyLine = event;
          clearTimeout(timer);
          resolve(event);
          return;
        }
      }
      options.echo?.(options.name, line, stream);
    };
    createInterface({ input: child.stdout! }).on('line', watch('stdout'));
    createInterface({ input: child.stderr! }).on('line', watch('stderr'));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} ${howItEnded(child, code)} before it was ready\n${tail}`));
    });
  });
  const ready = readyEvent.catch(async (error) => {
    await stop(2000);
    throw error;
  });
  ready.catch(() => undefined);
  return { name: options.name, child, ready, exited, stop };
}

/**
 * nats-server on a free loopback port (or as `configFile` says: it must listen on 127.0.0.1); its ready
 * event holds the client URL (tls:// when `tls`).
 */
export function spawnNatsServer(echo?: SpawnOptions['echo'], config?: { configFile: string; tls: boolean }): Child {
  return spawnChild({
    name: 'nats-server',
    command: 'nats-server',
    args: config ? ['-c', config.configFile] : ['-a', '127.0.0.1', '-p', '-1'],
    readyWhen: (line) => {
      const match = /Listening for client connections on [^\s]*:(\d+)/.exec(line);
      return match ? { event: 'listening', url: `${config?.tls ? 'tls' : 'nats'}://127.0.0.1:${match[1]}` } : null;
    },
    echo: (name, line, stream) => {
      if (/\[(ERR|FTL|WRN)\]/.test(line)) echo?.(name, line, stream);
    },
    timeoutMs: 15_000,
  });
}

/**
 * Runs a script (scripts/setup, scripts/models) to its end, stderr shown, and resolves with its stdout;
 * a stop of every live child (liveChildren) stops it. `group`: it runs in its own process group and a
 * stop reaches everything it started (not for a script that may ask for a password on the terminal).
 * @throws when it cannot start or exits non-zero (the message names the script and its exit code).
 */
export async function runScript(file: string, args: string[] = [], options: { group?: boolean } = {}): Promise<string> {
  const group = options.group ?? false;
  const child = spawnTied(file, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: group });
  const { exited } = track(path.basename(file), child, group);
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const started = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  await started;
  const code = await exited;
  if (code !== 0) throw new Error(`${file} ${args.join(' ')} exited with ${code}`);
  return stdout;
}

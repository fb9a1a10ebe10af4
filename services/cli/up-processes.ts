// The processes `fslm up` runs: a child that announces itself with a JSON line, and nats-server.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Child {
  name: string;
  child: ChildProcess;
  /** The JSON line it printed once ready (rejects if it exits or times out first; the child is then stopped). */
  ready: Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
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

/** Spawns a child at once (so a caller can stop it even before it is ready). */
export function spawnChild(options: SpawnOptions): Child {
  const child = spawn(options.command, options.args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  let tail = '';
  let readyLine: Record<string, unknown> | null = null;
  const readyEvent = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.name} was not ready after ${options.timeoutMs ?? 180_000} ms\n${tail}`)), options.timeoutMs ?? 180_000);
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
      reject(new Error(`${options.name} exited with ${code} before it was ready\n${tail}`));
    });
  });
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
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

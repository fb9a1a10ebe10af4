// A third-party server (SeaweedFS, Prometheus, Jaeger, the OpenTelemetry Collector) as a child process of a
// test: started, probed until ready within a bound, stopped (SIGTERM, then SIGKILL) on failure or when done.
import { spawn, type ChildProcess } from 'node:child_process';

/** A running server process. */
export interface ServerProcess {
  child: ChildProcess;
  /** The last few kilobytes of its stdout and stderr. */
  log(): string;
  /** Stops it (SIGTERM; SIGKILL after 10 s) and waits for it to exit. */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Resolves truthy once the server serves; a throw or falsy result means "not yet". */
  ready: () => Promise<unknown>;
  timeoutMs?: number;
}

/** Starts the server and waits until `ready` succeeds; stops it and throws (with its log) on exit or timeout. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(options.command, options.args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd, env: { ...process.env, ...options.env } });
  let text = '';
  // Seen anywhere in its output, even if later lines push it out of the kept tail (onFreePorts retries on it).
  let portTaken = false;
  const keep = (chunk: Buffer) => {
    text = (text + chunk).slice(-8000);
    portTaken ||= /address already in use|EADDRINUSE/i.test(text);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };
  const cause = () => (portTaken ? ' (EADDRINUSE: a port it was given is taken)' : '');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const end = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}) before it was ready${cause()}\n${text}`);
      }
      const ok = await Promise.race([options.ready().catch(() => false), spawnError]);
      if (ok) break;
      if (Date.now() > end) throw new Error(`${options.name} was not ready after ${timeoutMs} ms${cause()}\n${text}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, log: () => text, stop };
}

/** True when GET `url` answers 2xx within 2 s. */
export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok;
}

/** The stdout's last line of a build script (its binary's path); rejects with the script's stderr on failure. */
export function scriptOutput(script: string, args: string[], timeoutMs: number): Promise<string> {
  return import('node:child_process').then(({ execFile }) => new Promise<string>((resolve, reject) => {
    execFile(script, args, { timeout: timeoutMs, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${script} ${args.join(' ')} failed (a cold build takes tens of minutes: run it once beforehand, as scripts/test does): ${error.message}\n${String(stderr).slice(-3000)}`));
      else resolve(String(stdout).trim().split('\n').pop()!);
    });
  }));
}

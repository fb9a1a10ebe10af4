// Runs `fslm controller` as a child process (node + tsx on services/controller/src/main.ts), collects
// its JSON log lines, and can kill it the hard way to test restarts and leader fail-over. Every wait is
// bounded, and a controller still running when the test process ends is stopped (support/children.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { exitOf, stopChild, track, type ChildExit } from '../../support/children.ts';
import { REPO_ROOT } from '../../support/models.ts';
import { WaitTimeoutError, within } from '../../support/wait.ts';

export interface LogLine {
  time: string;
  msg: string;
  [k: string]: unknown;
}

export interface ControllerOptions {
  kubeconfig: string;
  identity: string;
  /** Serve /metrics on a loopback port the controller picks (it logs the address in its "starting" line). */
  metrics?: boolean;
  otlpUrl?: string;
  extraArgs?: string[];
}

/** Short lease timings so fail-over takes seconds in tests. */
export const FAST_LEASE = ['--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '500ms', '--leader-elect-namespace', 'fslm-system'];

export class ControllerProcess {
  readonly lines: LogLine[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<ChildExit>;
  private readonly logged = new EventEmitter();
  private stderr = '';

  private constructor(readonly identity: string, args: string[]) {
    this.child = track(spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'services/controller/src/main.ts'), ...args], {
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' },
    }));
    let buf = '';
    this.child.stdout!.on('data', (d) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let line: LogLine;
        try { line = JSON.parse(text); } catch { line = { time: '', msg: text }; }
        this.lines.push(line);
        this.logged.emit('line', line);
      }
    });
    this.child.stderr!.on('data', (d) => (this.stderr = (this.stderr + d).slice(-8000)));
    this.exited = exitOf(this.child);
  }

  static start(o: ControllerOptions): ControllerProcess {
    const args = ['--kubeconfig', o.kubeconfig, '--identity', o.identity, ...FAST_LEASE, ...(o.extraArgs ?? [])];
    if (o.metrics) args.push('--metrics', '127.0.0.1:0');
    if (o.otlpUrl) args.push('--otlp', o.otlpUrl);
    return new ControllerProcess(o.identity, args);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  logs(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg === msg);
  }

  /**
   * Resolves with the first log line (already seen or coming) whose msg is `msg`.
   * @throws when the controller exits first, or after `timeoutMs` (default 30 s).
   */
  waitForLog(msg: string, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.lines.find((l) => l.msg === msg);
    if (seen) return Promise.resolve(seen);
    let onLine!: (line: LogLine) => void;
    const logged = new Promise<LogLine>((resolve, reject) => {
      onLine = (line) => {
        if (line.msg === msg) resolve(line);
      };
      this.logged.on('line', onLine);
      this.exited.then(({ code, signal }) => reject(new Error(`${this.identity} exited (${code ?? signal}) before logging "${msg}"; stderr: ${this.stderr.slice(-1500)}`)));
    });
    return within(logged, { what: `${this.identity} to log "${msg}"`, timeoutMs })
      .catch((e: unknown) => {
        throw e instanceof WaitTimeoutError ? new Error(`${e.message}; stderr: ${this.stderr.slice(-1500)}`) : e;
      })
      .finally(() => this.logged.off('line', onLine));
  }

  /**
   * Sends the signal and resolves with the exit code (null when killed by a signal). A controller still
   * running `graceMs` (default 15 s) later is killed with SIGKILL, so that case resolves with null too.
   */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<number | null> {
    return (await stopChild(this.child, { signal, graceMs })).code;
  }
}

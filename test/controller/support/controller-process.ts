// Runs `fslm controller` as a child process (node + tsx on services/controller/src/main.ts), collects
// its JSON log lines, and can kill it the hard way to test restarts and leader fail-over.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/models.ts';
import { waitFor } from './testenv.ts';

export interface LogLine {
  time: string;
  msg: string;
  [k: string]: unknown;
}

export interface ControllerOptions {
  kubeconfig: string;
  identity: string;
  metricsPort?: number;
  otlpUrl?: string;
  extraArgs?: string[];
}

/** Short lease timings so fail-over takes seconds in tests. */
export const FAST_LEASE = ['--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '500ms', '--leader-elect-namespace', 'fslm-system'];

export class ControllerProcess {
  readonly lines: LogLine[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private stderr = '';

  private constructor(readonly identity: string, args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'services/controller/src/main.ts'), ...args], {
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' },
    });
    let buf = '';
    this.child.stdout!.on('data', (d) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try { this.lines.push(JSON.parse(line)); } catch { this.lines.push({ time: '', msg: line }); }
      }
    });
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
  }

  static start(o: ControllerOptions): ControllerProcess {
    const args = ['--kubeconfig', o.kubeconfig, '--identity', o.identity, ...FAST_LEASE, ...(o.extraArgs ?? [])];
    if (o.metricsPort) args.push('--metrics', `127.0.0.1:${o.metricsPort}`);
    if (o.otlpUrl) args.push('--otlp', o.otlpUrl);
    return new ControllerProcess(o.identity, args);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  logs(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg === msg);
  }

  waitForLog(msg: string, timeoutMs = 30_000): Promise<LogLine> {
    return waitFor(`${this.identity} to log "${msg}"; stderr: ${this.stderr.slice(-500)}`, async () => this.lines.find((l) => l.msg === msg), timeoutMs, 100);
  }

  /** Sends the signal and resolves with the exit code (null when killed by a signal). */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

// Starts the real test control plane (scripts/k8s-testenv) once per test file, each in its own state
// folder, and gives the tests kubectl against it. Set FSLM_SKIP_K8S=1 to skip these tests on a
// machine that cannot build the control plane; without it they build it (about 10 minutes on 2 cores, once).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../../support/models.ts';

export const SKIP_K8S = process.env.FSLM_SKIP_K8S === '1' ? 'FSLM_SKIP_K8S=1' : false;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

export class TestEnv {
  private constructor(readonly dir: string, readonly kubeconfig: string) {}

  /** Kubeconfig whose user is the service account fslm-system/fslm-controller (bind k8s/base/controller/rbac.yaml first). */
  get controllerKubeconfig(): string {
    return join(this.dir, 'kubeconfig-controller');
  }

  /** Starts a control plane; `gpuNodes` simulated GPU nodes (default 4), one CPU node. */
  static async start(name: string, opts: { gpuNodes?: number } = {}): Promise<TestEnv> {
    const dir = join(mkdtempSync(join(tmpdir(), `fslm-k8s-${name}-`)), 'env');
    const r = await run(join(REPO_ROOT, 'scripts/k8s-testenv'), ['up'], { env: { FSLM_K8S_DIR: dir, FSLM_K8S_GPU_NODES: String(opts.gpuNodes ?? 4) } });
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    const m = /^export KUBECONFIG=(.+)$/.exec(last);
    if (r.code !== 0 || !m) throw new Error(`scripts/k8s-testenv up failed (${r.code}):\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-1000)}`);
    return new TestEnv(dir, m[1]);
  }

  async stop(): Promise<void> {
    await run(join(REPO_ROOT, 'scripts/k8s-testenv'), ['down'], { env: { FSLM_K8S_DIR: this.dir } });
    rmSync(dirname(this.dir), { recursive: true, force: true });
  }

  /** Runs kubectl; throws with its stderr unless it exits 0 (or `allowFail`). */
  async kubectl(args: string[], opts: { input?: string; allowFail?: boolean } = {}): Promise<RunResult> {
    const r = await run('kubectl', ['--kubeconfig', this.kubeconfig, ...args], { input: opts.input });
    if (r.code !== 0 && !opts.allowFail) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r;
  }

  async json<T = any>(args: string[]): Promise<T> {
    return JSON.parse((await this.kubectl([...args, '-o', 'json'])).stdout) as T;
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The StackTrainingRun as JSON. */
export const getRun = (env: TestEnv, name: string, ns = 'default') => env.json(['get', 'stacktrainingrun', name, '-n', ns]);

/** Waits until the run's status.phase is one of `phases`, and returns the run. */
export function waitForPhase(env: TestEnv, name: string, phases: string[], timeoutMs = 60_000, ns = 'default') {
  return waitFor(`run ${name} to reach ${phases.join('/')}`, async () => {
    const r = await getRun(env, name, ns);
    return phases.includes(r.status?.phase) ? r : undefined;
  }, timeoutMs, 250);
}

/** Installs the CRD, the controller's namespace and RBAC, as a user would. */
export async function installFslm(env: TestEnv): Promise<void> {
  await env.kubectl(['apply', '-f', 'k8s/base/crd/']);
  await waitForCrds(env);
  await env.kubectl(['apply', '-f', 'k8s/base/controller/namespace.yaml']);
  await env.kubectl(['apply', '-f', 'k8s/base/controller/rbac.yaml']);
}

/** Waits until fslm's CRDs are Established (served). */
export async function waitForCrds(env: TestEnv): Promise<void> {
  for (const crd of ['stacktrainingruns.fslm.dev', 'stacks.fslm.dev']) {
    // kubectl wait errors out (instead of waiting) while a new CRD has no status.conditions yet.
    await waitFor(`the CRD ${crd} to be Established`, async () =>
      (await env.kubectl(['wait', '--for=condition=Established', `crd/${crd}`, '--timeout=10s'], { allowFail: true })).code === 0, 30_000);
  }
}

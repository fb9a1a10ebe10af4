// Starts the real test control plane (scripts/k8s-testenv) once per test file, each in its own state
// folder, so every file sets up and tears down all it uses and runs alone or in any order; gives the
// tests kubectl against it. The binaries must be built first (`scripts/k8s-testenv build`, tens of
// minutes cold, once; scripts/test does it). FSLM_SKIP_K8S=1 skips these tests on a machine that cannot
// build them, except under CI, where that fails instead.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { skipOutsideCi } from '../../support/ci.ts';
import { onTestProcessExit, stopChild, track } from '../../support/children.ts';
import { REPO_ROOT } from '../../support/models.ts';
import { waitFor } from '../../support/wait.ts';

export const SKIP_K8S = skipOutsideCi(process.env.FSLM_SKIP_K8S === '1' ? 'FSLM_SKIP_K8S=1' : false);

/** Bounds of the control plane's start (its own waits add up to about 6 minutes at worst) and stop. */
export const K8S_UP_TIMEOUT_MS = 8 * 60_000;
const K8S_DOWN_TIMEOUT_MS = 60_000;
/** Timeout for a test file's `before` hook that starts the control plane and a controller. */
export const K8S_BEFORE_TIMEOUT_MS = K8S_UP_TIMEOUT_MS + 2 * 60_000;
const TESTENV = join(REPO_ROOT, 'scripts/k8s-testenv');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion and resolves with its exit code and output.
 * @throws when it does not exit within `timeoutMs` (default 2 minutes; it is stopped first).
 */
export async function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const child = track(spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // 'close' (exit and every pipe drained) or 'error' (it did not start).
  const closed = new Promise<RunResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  child.stdin.on('error', () => {}); // a command that exits without reading its input
  child.stdin.end(opts.input ?? '');
  const timeoutMs = opts.timeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
  const ended = await Promise.race([closed, late]).finally(() => clearTimeout(timer));
  if (ended !== 'late') return ended;
  await stopChild(child, { graceMs: 5000 });
  throw new Error(`${cmd} ${args.join(' ')} did not finish within ${timeoutMs} ms\nstderr: ${stderr.slice(-4000)}\nstdout: ${stdout.slice(-1000)}`);
}

/** True when scripts/k8s/build.sh has finished every component for the pinned versions. */
function binariesBuilt(): boolean {
  try {
    execFileSync('bash', ['-c', 'source scripts/k8s/versions.sh && [ -f "$ETCD_BIN/.complete" ] && [ -f "$K8S_BIN/.complete" ] && [ -f "$KWOK_BIN/.complete" ]'], { cwd: REPO_ROOT, stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export class TestEnv {
  private constructor(readonly dir: string, readonly kubeconfig: string, private readonly forget: () => void) {}

  /** Kubeconfig whose user is the service account fslm-system/fslm-controller (bind k8s/base/controller/rbac.yaml first). */
  get controllerKubeconfig(): string {
    return join(this.dir, 'kubeconfig-controller');
  }

  /**
   * Starts a fresh control plane in a new temp folder, with `gpuNodes` simulated GPU nodes (default 4) and
   * one CPU node. A failed start stops whatever it started, and one still running when the test process
   * ends is stopped then.
   * @throws when the binaries are not built, or the control plane is not up within K8S_UP_TIMEOUT_MS.
   */
  static async start(name: string, opts: { gpuNodes?: number } = {}): Promise<TestEnv> {
    if (!binariesBuilt()) throw new Error('the test control plane is not built: run `scripts/k8s-testenv build` once (tens of minutes cold; npm test does it)');
    const dir = join(mkdtempSync(join(tmpdir(), `fslm-k8s-${name}-`)), 'env');
    const down = () => {
      try {
        execFileSync(TESTENV, ['down'], { env: { ...process.env, FSLM_K8S_DIR: dir }, stdio: 'ignore', timeout: K8S_DOWN_TIMEOUT_MS });
      } finally {
        rmSync(dirname(dir), { recursive: true, force: true });
      }
    };
    const forget = onTestProcessExit(down);
    let failure: string;
    try {
      const r = await run(TESTENV, ['up'], { env: { FSLM_K8S_DIR: dir, FSLM_K8S_GPU_NODES: String(opts.gpuNodes ?? 4) }, timeoutMs: K8S_UP_TIMEOUT_MS });
      const m = /^export KUBECONFIG=(.+)$/.exec(r.stdout.trim().split('\n').at(-1) ?? '');
      if (r.code === 0 && m) return new TestEnv(dir, m[1], forget);
      failure = `scripts/k8s-testenv up failed (${r.code}):\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-1000)}`;
    } catch (e) {
      failure = String(e);
    }
    forget();
    await run(TESTENV, ['down'], { env: { FSLM_K8S_DIR: dir }, timeoutMs: K8S_DOWN_TIMEOUT_MS }).catch(() => undefined);
    rmSync(dirname(dir), { recursive: true, force: true });
    throw new Error(failure);
  }

  /** Stops the control plane and removes its folder. */
  async stop(): Promise<void> {
    this.forget();
    try {
      await run(TESTENV, ['down'], { env: { FSLM_K8S_DIR: this.dir }, timeoutMs: K8S_DOWN_TIMEOUT_MS });
    } finally {
      rmSync(dirname(this.dir), { recursive: true, force: true });
    }
  }

  /** Runs kubectl (bounded by `timeoutMs`, default 60 s); throws with its stderr unless it exits 0 (or `allowFail`). */
  async kubectl(args: string[], opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
    const r = await run('kubectl', ['--kubeconfig', this.kubeconfig, '--request-timeout=30s', ...args], { input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 });
    if (r.code !== 0 && !opts.allowFail) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r;
  }

  async json<T = any>(args: string[]): Promise<T> { // kubectl's JSON: callers read the fields they check
    return JSON.parse((await this.kubectl([...args, '-o', 'json'])).stdout) as T;
  }
}

/** The StackTrainingRun as JSON. */
export const getRun = (env: TestEnv, name: string, ns = 'default') => env.json(['get', 'stacktrainingrun', name, '-n', ns]);

/** Waits until the run's status.phase is one of `phases`, and returns the run. */
export function waitForPhase(env: TestEnv, name: string, phases: string[], timeoutMs = 60_000, ns = 'default') {
  return waitFor(async () => {
    const r = await getRun(env, name, ns);
    return phases.includes(r.status?.phase) ? r : undefined;
  }, { what: `run ${name} to reach ${phases.join('/')}`, timeoutMs, intervalMs: 250 });
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
    await waitFor(async () => (await env.kubectl(['wait', '--for=condition=Established', `crd/${crd}`, '--timeout=10s'], { allowFail: true })).code === 0,
      { what: `the CRD ${crd} to be Established`, timeoutMs: 30_000, intervalMs: 200 });
  }
}

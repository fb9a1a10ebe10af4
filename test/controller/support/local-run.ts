// Harness for local-executor tests: writes StackTrainingRun files and JSONL datasets into a temp
// directory, runs the real `fslm train --local` / `fslm status` (bin/fslm.js) as child processes,
// and reads the run's status.json.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { RunSpec, StackTrainingRun, StageSpec } from '../../../services/controller/src/types.ts';
import { stopChild, track } from '../../support/children.ts';
import { REPO_ROOT } from '../../support/models.ts';
import { within } from '../../support/wait.ts';

export class LocalRunBuilder {
  private readonly spec: RunSpec;

  constructor(readonly name: string, stages: StageSpec[] = []) {
    this.spec = { stages };
  }

  stage(name: string, extra: Partial<StageSpec> = {}): this {
    this.spec.stages.push({ name, baseModel: 'tiny', dataset: `${name}.jsonl`, ...extra });
    return this;
  }

  with(patch: Partial<RunSpec>): this {
    Object.assign(this.spec, patch);
    return this;
  }

  /** Writes <dir>/<name>.yaml and returns its path. */
  write(dir: string): string {
    const file = path.join(dir, `${this.name}.yaml`);
    writeFileSync(file, stringify({ apiVersion: 'fslm.dev/v1alpha1', kind: 'StackTrainingRun', metadata: { name: this.name }, spec: this.spec }));
    return file;
  }
}

export const tempDir = (label: string): string => mkdtempSync(path.join(tmpdir(), `fslm-${label}-`));

/** A small prompt/completion JSONL a stage can fine-tune on in a few steps. */
export function writeDataset(dir: string, stage: string, rows = 24): string {
  const lines = Array.from({ length: rows }, (_, i) => JSON.stringify({ system: '', prompt: `What is ${i} plus ${i}?`, completion: `${i} plus ${i} is ${2 * i}.` }));
  const file = path.join(dir, `${stage}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `fslm ARGS` to completion; `onSpawn` gets a way to signal it.
 * @throws when it has not exited within `timeoutMs` (default 60 s; it is stopped first, SIGTERM then
 * SIGKILL), so a hung command fails its test with its output instead of outliving it.
 */
export async function fslm(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; onSpawn?: (kill: (s: NodeJS.Signals) => void) => void } = {}): Promise<CliResult> {
  const child = track(spawn(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), ...args], { cwd: REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  const closed = new Promise<CliResult>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  opts.onSpawn?.((s) => child.kill(s));
  const timeoutMs = opts.timeoutMs ?? 60_000;
  try {
    return await within(closed, { what: `fslm ${args.join(' ')} to exit`, timeoutMs });
  } catch (e) {
    await stopChild(child, { graceMs: 10_000 });
    throw new Error(`${(e as Error).message}\nstderr: ${stderr.slice(-3000)}\nstdout: ${stdout.slice(-1000)}`);
  }
}

export function readRun(stateDir: string, name: string): StackTrainingRun {
  return JSON.parse(readFileSync(path.join(stateDir, 'runs', name, 'status.json'), 'utf8'));
}

export const stageOf = (run: StackTrainingRun, name: string) => {
  const s = run.status?.stages?.find((x) => x.name === name);
  if (!s) throw new Error(`no stage ${name} in the status of ${run.metadata.name}`);
  return s;
};

export const ms = (iso: string | undefined): number => {
  if (!iso) throw new Error('missing time');
  return Date.parse(iso);
};

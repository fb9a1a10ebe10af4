// Configuration of `fslm train --local` and `fslm status`: flags plus the environment variables they
// honour (FSLM_STATE_DIR, FSLM_PY, FSLM_TRAIN_BASE_MODEL), resolved once. The only local-executor file that reads process.env.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { errors, errorMessage } from '../../shared/errors.ts';
import { parseDuration } from './config.ts';
import { DEFAULT_KILL_GRACE_MS } from './local-attempt.ts';

export const DEFAULT_STATE_DIR = '.fslm';
const LIB_SH = fileURLToPath(new URL('../../../scripts/lib.sh', import.meta.url));

export const TRAIN_USAGE = `usage: fslm train --local RUN.yaml [--state-dir DIR] [--parallel N] [--replace] [--python PATH] [--kill-grace DUR]
  Runs a StackTrainingRun on this machine: one trainer process per stage attempt, in dependency order,
  with the operator's retries, backoff and deadlines. Status goes to DIR/runs/<run>/status.json
  (DIR: --state-dir, $FSLM_STATE_DIR, or ./${DEFAULT_STATE_DIR}); see it with \`fslm status\`.
  --parallel N   at most N stages at once (default: every stage that is ready)
  --replace      delete an earlier run of the same name (and its models) first
  --python PATH  the trainer's Python (default $FSLM_PY, else the venv scripts/lib.sh names)
  $FSLM_TRAIN_BASE_MODEL  when set, every stage trains this base model instead of its baseModel
                 (e.g. tiny: a quick rehearsal of a run file on the tiny test model)
  Exit codes: 0 succeeded, 1 failed, 2 invalid RUN.yaml or flags, 130 interrupted.`;

export const STATUS_USAGE = `usage: fslm status [RUN] [--state-dir DIR] [--json]
  Without RUN: every local run (NAME PHASE PROGRESS AGE). With RUN: its stages. --json prints the run objects.`;

export interface TrainConfig {
  file: string;
  stateDir: string;
  parallel: number;
  replace: boolean;
  /** Resolved on first use: finding the venv runs bash. */
  python: () => string;
  killGraceMs: number;
  /** $FSLM_TRAIN_BASE_MODEL: replaces every stage's baseModel (undefined: the run file's). */
  baseModel: string | undefined;
}

export interface StatusConfig {
  run: string | undefined;
  stateDir: string;
  json: boolean;
}

type Help = { help: true };

type Options = Record<string, { type: 'string' | 'boolean' }>;
type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] };

function parse(argv: string[], options: Options, command: string): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (e) {
    throw errors.invalidArgument(`fslm ${command}: ${errorMessage(e)}`);
  }
}

const stateDirOf = (flag: unknown, env: NodeJS.ProcessEnv): string => path.resolve((flag as string | undefined) ?? env.FSLM_STATE_DIR ?? DEFAULT_STATE_DIR);

export function trainerPython(env: NodeJS.ProcessEnv): string {
  if (env.FSLM_PY) return env.FSLM_PY;
  return execFileSync('bash', ['-c', `source "${LIB_SH}" && echo "$FSLM_PY"`], { encoding: 'utf8' }).trim();
}

export function parseTrainConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): TrainConfig | Help {
  const { values: v, positionals } = parse(argv, {
    local: { type: 'string' }, 'state-dir': { type: 'string' }, parallel: { type: 'string' }, replace: { type: 'boolean' },
    python: { type: 'string' }, 'kill-grace': { type: 'string' },
  }, 'train');
  if (v.help) return { help: true };
  const problems: string[] = [];
  const file = (v.local as string | undefined) ?? positionals[0];
  if (v.local === undefined) problems.push('--local RUN.yaml is required (a cluster run is `kubectl apply -f RUN.yaml`)');
  if (positionals.length > (v.local === undefined ? 1 : 0)) problems.push(`unexpected argument ${positionals.at(-1)}`);
  const parallel = v.parallel === undefined ? Infinity : Number(v.parallel);
  if (!Number.isInteger(parallel) && parallel !== Infinity) problems.push(`--parallel: "${v.parallel}" is not a positive integer`);
  else if (parallel < 1) problems.push(`--parallel: "${v.parallel}" is not a positive integer`);
  const grace = v['kill-grace'] === undefined ? DEFAULT_KILL_GRACE_MS : parseDuration(v['kill-grace'] as string);
  if (grace === undefined) problems.push(`--kill-grace: "${v['kill-grace']}" is not a duration like 5s or 500ms`);
  if (problems.length > 0 || !file) throw errors.invalidArgument(`fslm train: ${problems.join('; ')}`);
  let python = v.python as string | undefined;
  return {
    file: path.resolve(file),
    stateDir: stateDirOf(v['state-dir'], env),
    parallel,
    replace: v.replace === true,
    python: () => (python ??= trainerPython(env)),
    killGraceMs: grace!,
    baseModel: env.FSLM_TRAIN_BASE_MODEL || undefined,
  };
}

export function parseStatusConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): StatusConfig | Help {
  const { values: v, positionals } = parse(argv, { 'state-dir': { type: 'string' }, json: { type: 'boolean' } }, 'status');
  if (v.help) return { help: true };
  if (positionals.length > 1) throw errors.invalidArgument(`fslm status: unexpected argument ${positionals[1]}`);
  return { run: positionals[0], stateDir: stateDirOf(v['state-dir'], env), json: v.json === true };
}

// The README's training section runs as written: its code block (read from README.md, so the two
// cannot drift) trains examples/local-training/run.yaml with `fslm train --local`, shows it with
// `fslm status`, serves the trained model with `fslm up --stack examples/local-training/trained.yaml`
// and asks it with `fslm ask`, in a fresh view of the checkout (its files without any ./.fslm state).
// What differs from a person typing them, and why: FSLM_TRAIN_BASE_MODEL=tiny trains the tiny test
// model instead of SmolLM2 (seconds instead of minutes); `fslm up` gets `--no-setup` (the test run did
// the setup) and free ports (`--grpc/--http 127.0.0.1:0`, as other tests on this machine run at the
// same time), and `fslm ask` finds that router through FSLM_ROUTER.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { REPO_ROOT, testModels } from '../support/models.ts';
import { stopChild, track } from '../support/children.ts';
import { startFslm, type FslmProcess } from '../support/processes.ts';
import { within } from '../support/wait.ts';

const MARKER = '<!-- test/docs/readme-training.test.ts runs this block as written';

/** The README block's commands, each as argv (shell words; `#` starts a comment; "..." quotes). */
export function readmeCommands(readme: string): string[][] {
  const at = readme.indexOf(MARKER);
  assert.ok(at >= 0, 'README.md has the tested training block');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, 'a ```sh block follows the marker');
  return block[1].split('\n').map((line) => {
    const words: string[] = [];
    for (const m of line.matchAll(/"([^"]*)"|(#.*)|(\S+)/g)) {
      if (m[2] !== undefined) break;
      words.push(m[1] ?? m[3]);
    }
    return words;
  }).filter((w) => w.length > 0);
}

let clone: string;
let up: FslmProcess | undefined;
const env = (): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, FSLM_TRAIN_BASE_MODEL: 'tiny' };
  delete e.FSLM_STATE_DIR;
  delete e.FSLM_ROUTER;
  return e;
};

/** Runs one command to its end in the clone; a command still running after `timeoutMs` is stopped and fails the test. */
async function runCommand(argv: string[], timeoutMs: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = track(spawn(argv[0] === 'node' ? process.execPath : argv[0], argv.slice(1), { cwd: clone, env: { ...env(), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  try {
    return { code: await within(closed, { what: `${argv.join(' ')} to exit`, timeoutMs }), stdout, stderr };
  } catch (e) {
    await stopChild(child, { graceMs: 10_000 });
    throw new Error(`${(e as Error).message}\nstderr: ${stderr.slice(-3000)}`);
  }
}

before(() => {
  testModels('tiny');
  // A fresh clone's view: every file git would check out (tracked, and new ones not ignored), no state.
  clone = mkdtempSync(path.join(os.tmpdir(), 'fslm-readme-'));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const top = new Set(files.split('\n').filter(Boolean).map((f) => f.split('/')[0]));
  for (const name of [...top, 'node_modules']) symlinkSync(path.join(REPO_ROOT, name), path.join(clone, name));
}, { timeout: 30 * 60_000 }); // builds the tiny model when scripts/models has not yet
after(async () => {
  await up?.stop();
  rmSync(clone, { recursive: true, force: true });
}, { timeout: 60_000 });

test('the trained stack serves the training stack\'s stage: the same system prompt, template and parameters', { timeout: 30_000 }, () => {
  const example = path.join(REPO_ROOT, 'examples/local-training');
  const run = parse(readFileSync(path.join(example, 'run.yaml'), 'utf8'));
  const trained = parse(readFileSync(path.join(example, 'trained.yaml'), 'utf8'));
  const stack = parse(readFileSync(path.resolve(example, run.spec.stack), 'utf8'));
  for (const s of run.spec.stages) {
    const { model: _trained, ...served } = trained.spec.stages.find((t: { name: string }) => t.name === s.name);
    const { model: _base, ...trainedOn } = stack.spec.stages.find((t: { name: string }) => t.name === s.name);
    assert.deepEqual(served, trainedOn, `stage ${s.name}`);
    assert.equal(path.resolve(example, _trained), path.join(REPO_ROOT, '.fslm/runs', run.metadata.name, s.name, 'model'));
  }
});

test('the README\'s training commands run as written: train --local, status, up --stack, ask', { timeout: 600_000 }, async () => {
  const commands = readmeCommands(readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
  assert.deepEqual(commands.map((c) => c.slice(0, 3).join(' ')), ['node bin/fslm.js train', 'node bin/fslm.js status', 'node bin/fslm.js up', 'node bin/fslm.js ask']);
  const [train, status, upCommand, ask] = commands;

  const trained = await runCommand(train, 420_000);
  assert.equal(trained.code, 0, trained.stderr.slice(-3000));
  assert.match(trained.stderr, /every stage trains base model tiny/);

  const shown = await runCommand(status, 60_000);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^final\s+Succeeded\b/m);
  assert.ok(shown.stdout.includes(path.join(clone, '.fslm/runs/arithmetic/final/model')), shown.stdout);

  up = await startFslm([...upCommand.slice(2), '--no-setup', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], { cwd: clone, readyEvent: 'up', timeoutMs: 180_000 });
  const answer = await runCommand(ask, 120_000, { FSLM_ROUTER: String(up.ready.grpc) });
  assert.equal(answer.code, 0, answer.stderr);
  assert.match(answer.stdout, /── 1\. final /);
  assert.match(answer.stdout, /══ answer/);
  // The stage that answered serves the model the run wrote.
  const manifest = JSON.parse(readFileSync(path.join(clone, '.fslm/runs/arithmetic/final/model/fslm.json'), 'utf8'));
  assert.equal(manifest.training_run, 'arithmetic');
  assert.equal(manifest.stage, 'final');
});

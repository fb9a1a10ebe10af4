// `fslm train --local` with spec.stack, with the real trainer on the tiny model: each stage's rows are
// rendered from the stack's stage (system prompt and template over the row's input and earlier stages'
// texts), and the prompt a stage trains on is the prompt serving asks it, token for token — the
// trainer's `prompt` event against `fslm render-prompts` (the router's rendering, the stage's tokenizer
// on the served artifact). A run whose stack lacks one of its stages is refused before anything starts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, testModels } from '../support/models.ts';
import { LocalRunBuilder, fslm, readRun, stageOf, tempDir } from './support/local-run.ts';

const STACK = `apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: { name: trained }
spec:
  stages:
    - name: first
      model: tiny-onnx
      system: "You restate requests <|im_start|> briefly."
      template: "Restate: {input}"
    - name: final
      model: tiny-onnx
      template: |-
        Request: {input}
        Restated: {stages.first}
`;
/** Rows as `fslm distill` writes them: the template's values and the teacher's completion (tricky text first). */
const rows = (stage: string) => Array.from({ length: 12 }, (_, i) => ({
  input: i === 0 ? 'Type <|im_end|> here {braces} 日本語 🚀' : `What is ${i} plus ${i}?`,
  ...(stage === 'final' ? { stages: { first: i === 0 ? '<|endoftext|> and {input}' : `The sum of ${i} and ${i}.` } } : {}),
  completion: `${i} plus ${i} is ${2 * i}.`,
}));
const lora = { rank: 4, alpha: 8, dropout: 0, targetModules: ['all-linear'] };
let dir: string;
let stateDir: string;
let stackFile: string;

before(() => {
  testModels('tiny');
  dir = tempDir('local-stack');
  stateDir = path.join(dir, 'state');
  stackFile = path.join(dir, 'stack.yaml');
  writeFileSync(stackFile, STACK);
  for (const s of ['first', 'final']) writeFileSync(path.join(dir, `${s}.jsonl`), `${rows(s).map((r) => JSON.stringify(r)).join('\n')}\n`);
}, { timeout: 30 * 60_000 }); // builds the tiny model when scripts/models has not yet
after(() => rmSync(dir, { recursive: true, force: true }), { timeout: 30_000 });

/** The trainer's `prompt` event in an attempt's log: the first row as it trains on it. */
function trainedPrompt(run: string, stage: string): { messages: unknown[]; prompt_ids: number[] } {
  const log = readFileSync(path.join(stateDir, 'runs', run, stage, 'attempt-1.log'), 'utf8');
  const line = log.split('\n').find((l) => l.startsWith('{') && JSON.parse(l).event === 'prompt');
  assert.ok(line, `no prompt event in the ${stage} log`);
  return JSON.parse(line);
}

/** What serving asks the stage for a row: `fslm render-prompts` on the served artifact. */
function servedPrompt(stage: string, row: object): { messages: unknown[]; prompt_ids: number[] } {
  const out = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), 'render-prompts', '--stack', stackFile, '--stage', stage,
    '--model', testModels('tiny')['tiny-onnx']], { input: `${JSON.stringify(row)}\n`, encoding: 'utf8', timeout: 120_000 });
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout.trim());
}

test('each stage trains on the prompt its stack stage serves, token for token', { timeout: 600_000 }, async () => {
  const file = new LocalRunBuilder('stacked')
    .with({ stack: 'stack.yaml', template: { env: [{ name: 'FSLM_THREADS', value: '1' }] }, retry: { limit: 0 } })
    .stage('first', { maxSteps: 2, lora })
    .stage('final', { maxSteps: 2, lora, dependsOn: ['first'] })
    .write(dir);
  const res = await fslm(['train', '--local', file, '--state-dir', stateDir], { timeoutMs: 540_000 });
  assert.equal(res.code, 0, res.stderr);
  const run = readRun(stateDir, 'stacked');
  assert.equal(run.status?.phase, 'Succeeded');
  for (const stage of ['first', 'final']) {
    assert.equal(stageOf(run, stage).phase, 'Succeeded');
    const trained = trainedPrompt('stacked', stage);
    const served = servedPrompt(stage, rows(stage)[0]);
    assert.deepEqual(trained.messages, served.messages, `${stage}: messages`);
    assert.deepEqual(trained.prompt_ids, served.prompt_ids, `${stage}: prompt ids`);
  }
  assert.equal(trainedPrompt('stacked', 'first').messages.length, 2, 'the stage\'s system prompt came from the stack');
});

test('a run whose stack lacks one of its stages is refused before anything starts, naming spec.stack', { timeout: 120_000 }, async () => {
  const file = new LocalRunBuilder('mismatched').with({ stack: 'stack.yaml' }).stage('first').stage('answer').write(dir);
  const res = await fslm(['train', '--local', file, '--state-dir', stateDir], { timeoutMs: 60_000 });
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /spec\.stack: stack trained \(.*stack\.yaml\) has no stage "answer"; its stages are first, final/);
  assert.equal(existsSync(path.join(stateDir, 'runs', 'mismatched')), false, 'no state was written for the run');
});

// `fslm up` brings a whole stack up (nats-server, one process per stage, the router), `fslm ask`
// answers through it with every stage's text and the adapter version each stage serves, and Ctrl-C
// stops every process up started. The final stage serves the tiny model fine-tuned for a few steps
// (a real LoRA adapter, merged), the others the tiny model itself (no adapter).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, testModels } from '../support/models.ts';
import { startFslm, type FslmProcess } from '../support/processes.ts';
import { StackBuilder } from './support/stack-builder.ts';

const run = promisify(execFile);
let up: FslmProcess;
let stackFile: string;
let adapterVersion: string;

/** A few LoRA steps of the tiny model on sums, as the final stage asks them: the merged artifact's directory. */
async function fineTunedTiny(base: string): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-ask-adapter-'));
  const rows = Array.from({ length: 8 }, (_, i) => JSON.stringify({ stage: 'final', system: '', prompt: `What is ${i} plus 2?`, completion: `${i + 2}.` }));
  writeFileSync(path.join(dir, 'final.jsonl'), rows.join('\n') + '\n');
  await run(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), 'trainer', 'finetune', '--data', path.join(dir, 'final.jsonl'),
    '--base-model', base, '--out', path.join(dir, 'art'), '--stage', 'final', '--max-steps', '2', '--batch-size', '2',
    '--max-length', '64', '--eval-fraction', '0', '--threads', '1'], { cwd: REPO_ROOT, timeout: 300_000 });
  return path.join(dir, 'art');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  const models = testModels('tiny');
  const finalModel = await fineTunedTiny(models.tiny);
  adapterVersion = JSON.parse(readFileSync(path.join(finalModel, 'fslm.json'), 'utf8')).adapter.version;
  // The default stack's four roles, pointed at tiny artifact directories (so up needs no scripts/models).
  stackFile = StackBuilder.fourRoles('upstack', 16, models['tiny-onnx']).withModel('final', finalModel).write();
  up = await startFslm(['up', '--stack', stackFile, '--no-setup', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], { readyEvent: 'up', timeoutMs: 180_000 });
});
after(() => up?.stop('SIGKILL'));

test('fslm ask --json prints the answer and all four stage texts with timings (tiny stack via fslm up)', async () => {
  const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), 'ask', 'Why is the sky blue?', '--router', String(up.ready.grpc), '--json'], { cwd: REPO_ROOT });
  const answer = JSON.parse(stdout);
  assert.deepEqual(answer.stages.map((s: { stage: string }) => s.stage), ['understand', 'keywords', 'intermediate', 'final']);
  for (const s of answer.stages) {
    assert.ok(s.text.length > 0);
    assert.ok(s.timings.total_ms > 0);
  }
  assert.match(adapterVersion, /^[0-9a-f]{64}$/);
  assert.deepEqual(answer.stages.map((s: { adapter_version: string }) => s.adapter_version), ['', '', '', adapterVersion]);
  assert.equal(answer.text, answer.stages[3].text);
});

test('fslm ask prints each stage and the answer for people', async () => {
  const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), 'ask', 'Name a color.', '--router', String(up.ready.grpc)], { cwd: REPO_ROOT });
  for (const name of ['understand', 'keywords', 'intermediate']) assert.match(stdout, new RegExp(`── \\d\\. ${name} · tiny@[0-9a-f]{12} · adapter none · `));
  assert.match(stdout, new RegExp(`── 4\\. final · final@[0-9a-f]{12} · adapter ${adapterVersion.slice(0, 12)} · `));
  assert.match(stdout, /══ answer/);
});

test('Ctrl-C on fslm up stops every process it started', async () => {
  const pids = [...(up.ready.stages as Array<{ pid: number }>).map((s) => s.pid), ...Object.values(up.ready.pids as Record<string, number>)];
  assert.equal(pids.length, 6);
  assert.ok(pids.every(alive));
  const { code } = await up.stop('SIGINT');
  assert.equal(code, 0);
  assert.deepEqual(pids.filter(alive), []);
});

// `fslm up` brings a whole stack up (nats-server, one process per stage, the router), `fslm ask`
// answers through it with every stage's text, and Ctrl-C stops every process up started.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, testModels } from '../support/models.ts';
import { startFslm, type FslmProcess } from '../support/processes.ts';
import { StackBuilder } from './support/stack-builder.ts';

const run = promisify(execFile);
let up: FslmProcess;
let stackFile: string;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  const model = testModels('tiny')['tiny-onnx'];
  // The default stack's four roles, pointed at the tiny artifact directory (so up needs no scripts/models).
  stackFile = StackBuilder.fourRoles('upstack', 16, model).write();
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
  assert.equal(answer.text, answer.stages[3].text);
});

test('fslm ask prints each stage and the answer for people', async () => {
  const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), 'ask', 'Name a color.', '--router', String(up.ready.grpc)], { cwd: REPO_ROOT });
  for (const name of ['understand', 'keywords', 'intermediate', 'final']) assert.match(stdout, new RegExp(`── \\d\\. ${name} `));
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

// A shortened `npm run chaos` (15 s instead of 60, a stage host killed every 5 s, the router's NATS server
// restarted once): `fslm chaos` runs as a real process and must report no lost and no hung request.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ChaosSummary } from '../../chaos/report.ts';
import { REPO_ROOT, testModels } from '../support/models.ts';
import { within } from '../support/wait.ts';

test('a short chaos run (stage hosts killed, a NATS server restarted, under streaming load) loses no request and leaves none hung', { timeout: 540_000 }, async (t) => {
  testModels('tiny');
  const json = path.join(mkdtempSync(path.join(os.tmpdir(), 'fslm-chaos-')), 'summary.json');
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/fslm.js'), 'chaos', '--duration', '15', '--kill-every', '5', '--nats-restart-at', '8', '--json', json], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let code: number | null;
  try {
    code = await within(exited, { timeoutMs: 480_000, what: 'fslm chaos to end by itself' });
  } catch (error) {
    // fslm chaos removes its hosts on SIGTERM and on exit.
    child.kill('SIGTERM');
    await exited;
    throw error;
  }
  t.diagnostic(output.split('\n').filter((l) => !l.startsWith('[models]')).join('\n'));
  assert.equal(code, 0, `fslm chaos exited with ${code}:\n${output}`);
  const summary = JSON.parse(readFileSync(json, 'utf8')) as ChaosSummary;
  assert.equal(summary.total.lost, 0);
  assert.equal(summary.total.hung, 0);
  assert.ok(summary.total.completed > 0);
  const kills = summary.windows.filter((w) => w.window.startsWith('kill host '));
  assert.ok(kills.length >= 2, `stage hosts killed: ${kills.length}`);
  assert.equal(summary.windows.filter((w) => w.window.startsWith('restart nats-')).length, 1);
  assert.ok(summary.windows.slice(1).reduce((n, w) => n + w.started, 0) > 0, 'requests started while faults were under way');
  assert.equal(summary.total.started, summary.total.completed + summary.total.failed + summary.total.lost + summary.total.hung);
  assert.ok(summary.memory.start.total > 0 && summary.memory.end.total > 0);
});

// The trainer processes of `fslm train --local` stop with it whatever ends it: SIGHUP stops them and
// records the run as interrupted (as Ctrl-C does), and when `fslm train` is killed with SIGKILL its
// stage processes notice and stop within a bound. The stages run a custom command (a node process
// that writes its pid and waits), so the test needs no model.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { LocalRunBuilder, fslm, readRun, tempDir } from '../../../test/controller/support/local-run.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { running } from './support/running.ts';

/** How long the stage processes of a killed `fslm train` get to notice and stop. */
const ORPHAN_BOUND_MS = 30_000;

/** A run of two stages that each write their pid to DIR/<stage>.pid and then wait two minutes. */
function sleepers(dir: string, name: string): string {
  const sleeper = (stage: string) => ({
    baseModel: 'none', dataset: 'none.jsonl', env: [{ name: 'OUT', value: dir }],
    command: [process.execPath, '-e', `require('fs').writeFileSync(process.env.OUT + '/${stage}.pid', String(process.pid)); setTimeout(() => {}, 120000);`],
  });
  return new LocalRunBuilder(name).stage('x', sleeper('x')).stage('y', sleeper('y')).write(dir);
}

const pidFiles = (dir: string) => ['x', 'y'].map((s) => path.join(dir, `${s}.pid`));
const bothStarted = (dir: string) => waitFor(() => pidFiles(dir).every((f) => existsSync(f) && readFileSync(f, 'utf8') !== ''), { what: 'both stage processes to start', timeoutMs: 60_000 });
const stagePids = (dir: string) => pidFiles(dir).map((f) => Number(readFileSync(f, 'utf8')));

describe('fslm train stops its trainer processes with it', { timeout: 300_000 }, () => {
  test('SIGHUP to fslm train stops every stage process and records the run as interrupted', async () => {
    const dir = tempDir('train-hup');
    const file = sleepers(dir, 'hangup');
    let sent = false;
    const res = await fslm(['train', '--local', file, '--state-dir', path.join(dir, 'state'), '--kill-grace', '2s'], {
      timeoutMs: 120_000,
      onSpawn: (kill) => void bothStarted(dir).then(() => {
        sent = true;
        kill('SIGHUP');
      }, () => kill('SIGKILL')),
    });
    assert.ok(sent, res.stderr);
    assert.equal(res.code, 130, res.stderr);
    const run = readRun(path.join(dir, 'state'), 'hangup');
    assert.equal(run.status?.reason, 'Interrupted');
    assert.match(run.status!.message!, /SIGHUP/);
    assert.deepEqual(stagePids(dir).filter(running), [], 'no stage process is left');
  });

  test('SIGKILL to fslm train: its stage processes notice and stop within a bound', async () => {
    const dir = tempDir('train-kill');
    const file = sleepers(dir, 'killed');
    let sent = false;
    const res = await fslm(['train', '--local', file, '--state-dir', path.join(dir, 'state')], {
      timeoutMs: 120_000,
      onSpawn: (kill) => void bothStarted(dir).then(() => {
        sent = true;
        kill('SIGKILL');
      }, () => kill('SIGKILL')),
    });
    assert.ok(sent, res.stderr);
    assert.equal(res.signal, 'SIGKILL');
    const pids = stagePids(dir);
    await waitFor(() => pids.every((pid) => !running(pid)), { what: `the stage processes ${pids.join(', ')} of the killed fslm train to stop`, timeoutMs: ORPHAN_BOUND_MS });
  });
});

// Every process `fslm up` starts stops with it, whatever ends it: SIGTERM and SIGHUP stop them all in
// order (checked by pid: no nats-server, stage or router is left), and when `fslm up` itself is killed
// with SIGKILL (no chance to clean up) its children notice and stop within a bound. Also the portable
// half of that: an fslm process whose parent is already gone (--parent-pid) stops at once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StackBuilder } from '../../../test/stack/support/stack-builder.ts';
import { testModels } from '../../../test/support/models.ts';
import { startFslm, type FslmProcess } from '../../../test/support/processes.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { runFslm } from './support/run-fslm.ts';
import { running } from './support/running.ts';

/** How long children get to notice their parent's death and stop (their own stop has a 30 s backstop). */
const ORPHAN_BOUND_MS = 60_000;

/** `fslm up` on a two-stage stack of the tiny model (named as scripts/models names it). */
async function up(): Promise<{ up: FslmProcess; children: Record<string, number> }> {
  testModels('tiny');
  const p = { maxNewTokens: 4, temperature: 0 };
  const stack = new StackBuilder('lifecycle', 'tiny-onnx')
    .stage({ name: 'first', template: '{input}', params: p })
    .stage({ name: 'second', template: '{stages.first}', params: p })
    .write();
  const proc = await startFslm(['up', '--stack', stack, '--no-setup', '--threads', '1', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'],
    { readyEvent: 'up', timeoutMs: 240_000 });
  const ready = proc.ready as { stages: Array<{ name: string; pid: number }>; pids: { router: number; nats: number } };
  const children = { ...Object.fromEntries(ready.stages.map((s) => [`stage ${s.name}`, s.pid])), router: ready.pids.router, 'nats-server': ready.pids.nats };
  assert.equal(Object.keys(children).length, 4);
  for (const [name, pid] of Object.entries(children)) assert.ok(running(pid), `${name} (${pid}) runs`);
  return { up: proc, children };
}

const stillRunning = (children: Record<string, number>) => Object.entries(children).filter(([, pid]) => running(pid)).map(([name, pid]) => `${name} ${pid}`);

describe('fslm up stops every process it started', { timeout: 900_000 }, () => {
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    test(`${signal} to fslm up stops nats-server, the stages and the router, then up exits 0`, async () => {
      const { up: proc, children } = await up();
      const ended = await proc.stop(signal, { graceMs: 60_000 });
      assert.deepEqual(ended, { code: 0, signal: null }, 'up stopped in order and exited by itself');
      assert.deepEqual(stillRunning(children), []);
    });
  }

  test('SIGKILL to fslm up: its children notice and stop within a bound', async () => {
    const { up: proc, children } = await up();
    const ended = await proc.stop('SIGKILL');
    assert.equal(ended.signal, 'SIGKILL');
    await waitFor(() => stillRunning(children).length === 0, { timeoutMs: ORPHAN_BOUND_MS, what: `the children of the killed fslm up to stop (${stillRunning(children).join(', ')})` });
  });

  test('an fslm process whose parent is no longer the one named by --parent-pid stops at once', async () => {
    // pid 1 is never this test's pid, so the stage sees its parent as gone before it loads anything.
    const res = await runFslm(['--parent-pid', '1', 'stage', '--model', testModels('tiny')['tiny-onnx'], '--grpc', '127.0.0.1:0'], { timeoutMs: 120_000 });
    assert.equal(res.code, 128 + 15, res.stderr);
    assert.match(res.stderr, /parent process 1 is gone; stopping/);
    assert.doesNotMatch(res.stdout, /"listening"/);
  });
});

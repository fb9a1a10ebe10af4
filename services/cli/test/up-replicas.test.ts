// `fslm up --replicas 2`: a stage replica that dies is reported and the stack serves on with the other
// one (the router retries on it); only when a stage has no replica left does `fslm up` stop everything,
// saying how the last one ended ("was killed by SIGKILL", not a bare exit status), and exit 1 with no
// child left. The real bin/fslm.js on a two-stage stack of the tiny model.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StackBuilder } from '../../../test/stack/support/stack-builder.ts';
import { testModels } from '../../../test/support/models.ts';
import { startFslm } from '../../../test/support/processes.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { running } from './support/running.ts';

describe('fslm up with two replicas per stage', { timeout: 600_000 }, () => {
  test('one replica dying leaves the stack serving; the last one of a stage stops everything', async () => {
    testModels('tiny');
    const p = { maxNewTokens: 4, temperature: 0 };
    const stack = new StackBuilder('replicated', 'tiny-onnx')
      .stage({ name: 'first', template: '{input}', params: p })
      .stage({ name: 'second', template: 'Go on: {stages.first}', params: p })
      .write();
    const up = await startFslm(['up', '--stack', stack, '--no-setup', '--threads', '1', '--replicas', '2', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'],
      { readyEvent: 'up', timeoutMs: 240_000 });
    let stderr = '';
    up.child.stderr!.on('data', (chunk) => (stderr += chunk));
    const ready = up.ready as { http: string; stages: Array<{ name: string; pid: number }>; pids: { router: number; nats: number } };
    const pid = (name: string) => ready.stages.find((s) => s.name === name)!.pid;
    const all = [...ready.stages.map((s) => s.pid), ready.pids.router, ready.pids.nats];
    try {
      process.kill(pid('second-2'), 'SIGKILL');
      const reported = await up.waitForEvent((e) => e.event === 'replica-exited' && e.name === 'second-2', 60_000);
      assert.deepEqual([reported.stage, reported.signal, reported.replicas_left], ['second', 'SIGKILL', 1]);

      const response = await fetch(`http://${ready.http}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'replicated', messages: [{ role: 'user', content: 'Name a colour.' }] }),
      });
      assert.equal(response.status, 200, 'the stack still answers');
      const body = (await response.json()) as { fslm: { stages: Array<{ stage: string; replica: string }> } };
      assert.equal(body.fslm.stages.length, 2);

      process.kill(pid('second-1'), 'SIGKILL');
      const ended = await up.exited;
      assert.deepEqual(ended, { code: 1, signal: null }, 'fslm up stopped everything and exited 1');
      assert.match(stderr, /second-1 was killed by SIGKILL; stopping everything/);
      await waitFor(() => all.every((p) => !running(p)), { timeoutMs: 60_000, what: 'every child of fslm up to be gone' });
    } finally {
      await up.stop('SIGTERM', { graceMs: 30_000 });
    }
  });
});

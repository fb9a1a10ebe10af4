// The router's graceful shutdown is bounded: on SIGTERM it exits by itself (within its stated 10 s),
// with its NATS server running and with it gone. The test gives it far longer before it would SIGKILL,
// so a router that hangs ends as SIGKILL and fails the test; nothing here measures time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spawnNatsServer, type Child } from '../../services/cli/up-processes.ts';
import { startFslm } from '../support/processes.ts';
import { StackBuilder } from './support/stack-builder.ts';

const stackFile = new StackBuilder('lonely').stage({ name: 'only', template: 'Say {input}.' }).write();
let nats: Child;
let natsUrl: string;

const startRouter = () => startFslm(['router', '--stack', stackFile, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--nats', natsUrl]);

describe('router shutdown', { timeout: 300_000 }, () => {
  before(async () => {
    nats = spawnNatsServer();
    natsUrl = String((await nats.ready).url);
  }, { timeout: 60_000 });
  after(() => nats?.stop(), { timeout: 60_000 });

  test('SIGTERM: the router reports stopping and exits 0 by itself', async () => {
    const router = await startRouter();
    const exit = await router.stop('SIGTERM', { graceMs: 60_000 });
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(router.events.some((e) => e.event === 'stopping' && e.signal === 'SIGTERM' && e.timeout_ms === 10_000));
  });

  test('SIGTERM after its NATS server is gone: the router still exits by itself', async () => {
    const router = await startRouter();
    nats.child.kill('SIGKILL');
    await nats.exited;
    const exit = await router.stop('SIGTERM', { graceMs: 60_000 });
    assert.equal(exit.signal, null, 'it exited on its own, not by the SIGKILL that follows the grace');
    assert.ok(exit.code === 0 || exit.code === 1, `exit code ${exit.code}`);
  });
});

// Stage faults on separate hosts (network namespaces; a 3-server NATS cluster; each replica, the router
// and the NATS servers on their own hosts; this process is the client's host): a stage host killed
// mid-request, a stage host frozen mid-request, and a stage whose engine thread dies mid-request (its
// fault injection, FSLM_STAGE_FAULT_INJECTION, on SIGUSR2). Each request completes on the other replica.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testModels } from '../support/models.ts';
import { STAGE_GRPC_PORT, startHostStack, stageInFlight, type HostStack } from '../support/host-stack.ts';
import { waitFor } from '../support/wait.ts';
import { runStream } from '../stack/support/grpc-calls.ts';
import { FAULT_ROUTER_ENV, faultStack, healthClient } from './support/fault-stack.ts';

describe('stage faults across hosts', { timeout: 600_000 }, () => {
  let stack: HostStack;

  before(async () => {
    stack = await startHostStack({
      stack: faultStack(), modelDir: testModels('tiny')['tiny-onnx'], replicas: { draft: 2, answer: 1 }, routerEnv: FAULT_ROUTER_ENV,
      // Test-only: SIGUSR2 makes a stage's engine thread exit.
      stageEnv: { FSLM_STAGE_FAULT_INJECTION: 'engine-thread-exit' },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  test('a stage host killed mid-request (SIGKILL to all its processes): the request completes on the other replica', { timeout: 180_000 }, async () => {
    let killed = '';
    let kill: Promise<void> | null = null;
    const { events, error } = await runStream(stack.client(), { input: 'a lighthouse', request_id: 'host-killed' }, (event) => {
      if (event.stage_started?.stage === 'draft' && event.stage_started.attempt === 1) killed = event.stage_started.replica;
      if (event.stage_delta?.stage === 'draft' && event.stage_delta.attempt === 1 && !kill) kill = stack.killReplicaHost(killed);
    }, { deadline: new Date(Date.now() + 150_000) });
    await kill;
    assert.equal(error, null, `the request failed: ${error?.message}`);
    const final = events.at(-1)?.final;
    assert.ok(final, 'the request completed');
    const draft = final.stages.find((s) => s.stage === 'draft')!;
    assert.ok(draft.attempts >= 2, `draft ran ${draft.attempts} attempt(s)`);
    assert.notEqual(draft.replica, killed);
    assert.deepEqual(await stack.replica(killed).host.pids(), [], 'nothing runs on the killed host');
    assert.equal((await stack.replica(killed).process.exited).signal, 'SIGKILL');
    // The host comes back with a fresh stage process, and both replicas serve again.
    await stack.restartReplica(killed);
    const other = [...stack.replicas.values()].find((r) => r.stage === 'draft' && r.id !== killed)!;
    await waitFor(async () => (await stageInFlight(other)) === 0, { timeoutMs: 30_000, what: `${other.id} to hold no request` });
  });

  test('a stage host frozen mid-request (SIGSTOP): heartbeats stop, the request fails over, and the thawed replica drops it', { timeout: 180_000 }, async () => {
    let frozen = '';
    let freeze: Promise<void> | null = null;
    const { events, error } = await runStream(stack.client(), { input: 'a glacier', request_id: 'host-frozen' }, (event) => {
      if (event.stage_started?.stage === 'draft' && event.stage_started.attempt === 1) frozen = event.stage_started.replica;
      if (event.stage_delta?.stage === 'draft' && event.stage_delta.attempt === 1 && !freeze) freeze = stack.replica(frozen).host.freeze();
    }, { deadline: new Date(Date.now() + 150_000) });
    await freeze;
    await stack.replica(frozen).host.thaw();
    assert.equal(error, null, `the request failed: ${error?.message}`);
    const final = events.at(-1)?.final;
    assert.ok(final, 'the request completed');
    const draft = final.stages.find((s) => s.stage === 'draft')!;
    assert.ok(draft.attempts >= 2);
    assert.notEqual(draft.replica, frozen);
    // Once it runs again, the frozen replica reads the router's cancel and stops that request.
    const log = await stack.replica(frozen).process.waitForEvent((e) => e.event === 'request' && String(e.request_id).startsWith('host-frozen.draft.1'), 60_000);
    assert.equal(log.outcome, 'CANCELLED');
    await waitFor(async () => (await stageInFlight(stack.replica(frozen))) === 0, { timeoutMs: 30_000, what: `${frozen} to hold no request` });
  });

  test('a stage whose engine thread dies mid-request: health NOT_SERVING, it exits 1, and the request completes on the other replica', { timeout: 180_000 }, async () => {
    const statuses = new Map<string, string[]>();
    const watches = [...stack.replicas.values()].filter((r) => r.stage === 'draft').map((r) => {
      const seen: string[] = [];
      statuses.set(r.id, seen);
      const health = healthClient(`${r.host.ip}:${STAGE_GRPC_PORT}`);
      const watch = health.Watch({ service: 'fslm.v1.StageService' });
      watch.on('data', (reply: { status: string }) => seen.push(reply.status));
      watch.on('error', () => undefined);
      return { health, watch };
    });
    let dead = '';
    let faulted = false;
    const { events, error } = await runStream(stack.client(), { input: 'a volcano', request_id: 'engine-died' }, (event) => {
      if (event.stage_started?.stage === 'draft' && event.stage_started.attempt === 1) dead = event.stage_started.replica;
      if (event.stage_delta?.stage === 'draft' && event.stage_delta.attempt === 1 && !faulted) {
        faulted = true;
        stack.replica(dead).process.child.kill('SIGUSR2');
      }
    }, { deadline: new Date(Date.now() + 150_000) });
    assert.equal(error, null, `the request failed: ${error?.message}`);
    const draft = events.at(-1)?.final?.stages.find((s) => s.stage === 'draft');
    assert.ok(draft, 'the request completed');
    assert.ok(draft.attempts >= 2);
    assert.notEqual(draft.replica, dead);
    const replica = stack.replica(dead);
    const stopping = await replica.process.waitForEvent((e) => e.event === 'stopping', 30_000);
    assert.equal(stopping.reason, 'engine-failed');
    assert.equal((await replica.process.exited).code, 1, 'the stage exits non-zero, for its supervisor to restart it');
    assert.ok(statuses.get(dead)!.includes('NOT_SERVING'), `health of ${dead}: ${statuses.get(dead)!.join(', ')}`);
    for (const { health, watch } of watches) {
      watch.cancel();
      health.close();
    }
    await stack.restartReplica(dead);
  });
});

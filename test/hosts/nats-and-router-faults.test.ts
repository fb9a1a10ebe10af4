// NATS and router faults on separate hosts: the NATS server the router is connected to stopped while
// requests stream, the router restarted while requests stream, and the router killed while they stream. Outcomes are read from what the
// clients got (a final answer or a status) and what the processes report (their NATS reconnects, the
// stages' in-flight gauges), never from timing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testModels } from '../support/models.ts';
import type { FslmProcess } from '../support/processes.ts';
import { startHostStack, stageInFlight, type HostStack } from '../support/host-stack.ts';
import { waitRoutes } from '../support/nats-cluster.ts';
import { waitFor, within } from '../support/wait.ts';
import { grpcCode, run, runStream, type StreamOutcome } from '../stack/support/grpc-calls.ts';
import { FAULT_ROUTER_ENV, faultStack } from './support/fault-stack.ts';

/** Client deadline of each request: far beyond what a request needs, so a request that reaches it hung. */
const DEADLINE_MS = 120_000;

/**
 * Starts `count` streaming requests and resolves once every one of them streams draft text, with the
 * promises of their outcomes.
 */
async function streaming(stack: HostStack, prefix: string, count: number): Promise<Array<Promise<StreamOutcome>>> {
  let started = 0;
  let allStreaming!: () => void;
  const ready = new Promise<void>((resolve) => (allStreaming = resolve));
  const outcomes = Array.from({ length: count }, (_, i) => {
    let seen = false;
    return runStream(stack.client(), { input: `a river ${i}`, request_id: `${prefix}-${i}` }, (event) => {
      if (!seen && event.stage_delta?.stage === 'draft') {
        seen = true;
        if (++started === count) allStreaming();
      }
    }, { deadline: new Date(Date.now() + DEADLINE_MS) });
  });
  // A request that ends before streaming would leave `ready` pending: fail on it instead.
  await within(Promise.race([ready, Promise.all(outcomes).then(() => { if (started < count) throw new Error(`only ${started} of ${count} requests streamed`); })]),
    { timeoutMs: 120_000, what: `${count} requests to stream draft text` });
  return outcomes;
}

/** The NATS reconnects a process reported. */
function reconnects(process: FslmProcess): Array<Record<string, unknown>> {
  return process.events.filter((e) => e.event === 'nats' && e.type === 'reconnect');
}

describe('NATS and router faults across hosts', { timeout: 600_000 }, () => {
  let stack: HostStack;

  before(async () => {
    stack = await startHostStack({
      stack: faultStack(), modelDir: testModels('tiny')['tiny-onnx'], replicas: { draft: 2, answer: 2 }, routerEnv: FAULT_ROUTER_ENV,
    });
  });
  after(async () => {
    await stack?.stop();
  });

  test('the NATS server the router is connected to stops mid-load: clients reconnect, requests complete or fail fast with UNAVAILABLE', { timeout: 300_000 }, async (t) => {
    const outcomes = await streaming(stack, 'nats-stop', 4);
    const server = await stack.nats.serverOf('fslm-router');
    assert.ok(server, 'the router is connected to one of the servers');
    const stagesThere = (await server.clients()).filter((name) => name.startsWith('fslm-stage-'));
    const reconnectsBefore = reconnects(stack.router).length;
    await server.stop();
    const results = await Promise.all(outcomes);
    t.diagnostic(`outcomes: ${results.map(({ events, error }) => (error ? grpcCode(error) : `OK after ${events.at(-1)?.final?.stages[0].attempts} draft attempt(s)`)).join(', ')}`);
    for (const [i, { events, error }] of results.entries()) {
      if (error) assert.equal(grpcCode(error), 'UNAVAILABLE', `request ${i} ended with ${grpcCode(error)}: ${error.message}`);
      else assert.ok(events.at(-1)?.final, `request ${i} ended without a final answer and without an error status`);
    }
    // The router moved to another server of the cluster, and so did every stage that was on the stopped one.
    const reconnect = await waitFor(() => reconnects(stack.router).length > reconnectsBefore && reconnects(stack.router).at(-1),
      { timeoutMs: 30_000, what: 'the router to reconnect to NATS' });
    assert.ok(!String(reconnect.data).startsWith(server.host.ip), `the router reconnected to ${reconnect.data}, not to the stopped server`);
    for (const name of stagesThere) {
      const replica = [...stack.replicas.values()].find((r) => name.endsWith(`-${r.id}`))!;
      await replica.process.waitForEvent((e) => e.event === 'nats' && e.type === 'reconnect', 30_000);
    }
    assert.equal(await stack.nats.serverOf('fslm-router') !== server, true);
    const after = await run(stack.client(), { input: 'after the server stopped', params: { draft: { max_new_tokens: 8 } } }, { deadline: new Date(Date.now() + DEADLINE_MS) });
    assert.equal(after.stages.length, 2);
    await server.start();
    await waitRoutes(stack.nats.nodes);
    // No stage holds work for these requests any more (a cancel lost in the switch is sent again when the
    // replica is heard from), long before their deadlines.
    for (const replica of stack.replicas.values()) {
      await waitFor(async () => (await stageInFlight(replica)) === 0, { timeoutMs: 30_000, what: `${replica.id}'s in-flight gauge to return to 0` });
    }
    t.diagnostic(`cancels the router sent again: ${stack.router.events.filter((e) => e.event === 'cancel-resent').length}`);
  });

  test('the router restarted mid-load: calls in flight fail with UNAVAILABLE, new calls succeed, stages hold no orphaned work', { timeout: 300_000 }, async () => {
    const outcomes = await streaming(stack, 'router-restart', 3);
    const sse = fetch(`http://${stack.http}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: stack.stackName, stream: true, messages: [{ role: 'user', content: 'a harbour' }] }),
    });
    const response = await sse;
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('stage_delta')) {
      const { value, done } = await reader.read();
      assert.ok(!done, `the SSE stream ended before any stage text:\n${text}`);
      text += new TextDecoder().decode(value);
    }
    let restarted = false;
    const restart = stack.restartRouter('SIGTERM').then(() => (restarted = true));
    for (const [i, outcome] of (await Promise.all(outcomes)).entries()) {
      assert.equal(grpcCode(outcome.error), 'UNAVAILABLE', `call ${i} ended with ${grpcCode(outcome.error)}`);
      assert.match(outcome.error!.details, /shutting down/);
    }
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const events = text.trim().split('\n\n').map((e) => e.replace(/^data: /, '')).filter((e) => e !== '[DONE]');
    const last = JSON.parse(events.at(-1)!) as { fslm?: { event: string; code: string } };
    assert.deepEqual([last.fslm?.event, last.fslm?.code], ['error', 'UNAVAILABLE'], 'the SSE stream ends with an UNAVAILABLE error event');
    await restart;
    assert.ok(restarted);
    const answer = await run(stack.client(), { input: 'after the restart', params: { draft: { max_new_tokens: 8 } } }, { deadline: new Date(Date.now() + DEADLINE_MS) });
    assert.equal(answer.stages.length, 2);
    for (const replica of stack.replicas.values()) {
      await waitFor(async () => (await stageInFlight(replica)) === 0, { timeoutMs: 30_000, what: `${replica.id}'s in-flight gauge to return to 0` });
    }
    // The stages stopped the requests they were working on (the router's cancel), they did not finish them.
    const cancelled = [...stack.replicas.values()].flatMap((r) => r.process.events)
      .filter((e) => e.event === 'request' && String(e.request_id).startsWith('router-restart-'));
    assert.ok(cancelled.length >= 3 && cancelled.every((e) => e.outcome === 'CANCELLED'), JSON.stringify(cancelled));
  });

  test('the router killed mid-load (SIGKILL): calls in flight fail with UNAVAILABLE, and the stages end the work they held for it', { timeout: 300_000 }, async () => {
    const outcomes = await streaming(stack, 'router-killed', 3);
    await stack.restartRouter('SIGKILL');
    for (const [i, outcome] of (await Promise.all(outcomes)).entries()) {
      assert.equal(grpcCode(outcome.error), 'UNAVAILABLE', `call ${i} ended with ${grpcCode(outcome.error)}`);
    }
    // Nobody sent the stages a cancel: they notice that the router's reply inbox is gone (NATS answers
    // no-responders to their heartbeats) and end that work long before its deadline.
    for (const replica of stack.replicas.values()) {
      await waitFor(async () => (await stageInFlight(replica)) === 0, { timeoutMs: 60_000, what: `${replica.id}'s in-flight gauge to return to 0` });
    }
    const ended = [...stack.replicas.values()].flatMap((r) => r.process.events)
      .filter((e) => e.event === 'request' && String(e.request_id).startsWith('router-killed-'));
    assert.ok(ended.length >= 3 && ended.every((e) => e.outcome !== 'OK'), JSON.stringify(ended));
    const answer = await run(stack.client(), { input: 'after the crash', params: { draft: { max_new_tokens: 8 } } }, { deadline: new Date(Date.now() + DEADLINE_MS) });
    assert.equal(answer.stages.length, 2);
  });
});

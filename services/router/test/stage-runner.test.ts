// One stage over the bus (stage-runner.ts), against InMemoryTestBus: the test plays the replicas.
// Retries, heartbeat loss, no responders, the hand-off replica failing, the deadline and aborts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, errors, FslmError } from '../../shared/errors.ts';
import { runStage, type StageCall, type StageRunnerConfig } from '../src/stage-runner.ts';
import { InMemoryTestBus, type TestConversation } from './support/in-memory-test-bus.ts';

const config: StageRunnerConfig = { heartbeatMs: 20, heartbeatTimeoutMs: 150, maxAttempts: 3 };
const address = { stack: 's', stage: 'work', subjectPrefix: 'fslm.s.work' };

interface Recorded {
  started: number[];
  deltas: Array<[number, string]>;
  retried: number[];
}

function call(overrides: Partial<StageCall> = {}): { call: StageCall; seen: Recorded; abort: AbortController } {
  const seen: Recorded = { started: [], deltas: [], retried: [] };
  const abort = new AbortController();
  return {
    seen, abort,
    call: {
      address,
      request: { messages: [{ role: 'user', content: 'hello' }], params: { max_new_tokens: 4 } },
      headers: { requestId: 'req', deadlineMs: Date.now() + 60_000, trace: {} },
      deadlineMs: Date.now() + 60_000,
      signal: abort.signal,
      handoff: null,
      hooks: {
        started: (attempt) => seen.started.push(attempt),
        delta: (attempt, delta) => seen.deltas.push([attempt, delta.text]),
        retrying: (failed) => seen.retried.push(failed),
      },
      ...overrides,
    },
  };
}

describe('stage runner', { timeout: 30_000 }, () => {
  test('a replica that fails with UNAVAILABLE is retried on another one, which completes the stage', async () => {
    const bus = new InMemoryTestBus();
    const { call: c, seen } = call();
    const running = runStage(bus, c, config);
    const first = await bus.opening(0);
    first.accept('r1');
    first.delta('par');
    first.fail(errors.unavailable('the stage replica is shutting down'));
    const second = await bus.opening(1);
    assert.equal(second.run.attempt, 2);
    assert.equal(second.requestId, 'req.work.2', 'each attempt has its own id');
    second.accept('r2');
    second.delta('partial');
    second.result('partial');
    const done = await running;
    assert.equal(done.attempts, 2);
    assert.equal(done.accepted.replica, 'r2');
    assert.deepEqual(seen.started, [1, 2]);
    assert.deepEqual(seen.retried, [1]);
    assert.deepEqual(seen.deltas, [[1, 'par'], [2, 'partial']]);
    assert.equal(first.cancelled, 'cancelled', 'the failed replica is told to drop the request');
    assert.equal(second.closed, true);
  });

  test('a replica that stops sending heartbeats is given up and the stage is retried', async () => {
    const bus = new InMemoryTestBus();
    const { call: c, seen } = call();
    const running = runStage(bus, c, config);
    const silent = await bus.opening(0);
    silent.accept('quiet');
    // No more events from it: the heartbeat watch gives it up and a new attempt is opened.
    const second = await bus.opening(1);
    assert.equal(silent.cancelled, 'cancelled');
    second.accept('r2');
    second.result('done');
    assert.equal((await running).attempts, 2);
    assert.deepEqual(seen.retried, [1]);
  });

  test('no responders fails at once with UNAVAILABLE, without a retry', async () => {
    const bus = new InMemoryTestBus();
    const { call: c, seen } = call();
    const running = runStage(bus, c, config);
    (await bus.opening(0)).fail(errors.unavailable('no responders'), true);
    await assert.rejects(running, (e) => e instanceof FslmError && e.code === ErrorCode.Unavailable && /no replica is listening/.test(e.message));
    assert.equal(bus.opened.length, 1);
    assert.deepEqual(seen.retried, []);
  });

  test('an error that a retry cannot fix (INVALID_ARGUMENT) ends the stage at once', async () => {
    const bus = new InMemoryTestBus();
    const { call: c } = call();
    const running = runStage(bus, c, config);
    (await bus.opening(0)).fail(errors.invalidArgument('the prompt has 9000 tokens; this stage accepts at most 4096', 'prompt'));
    await assert.rejects(running, { code: ErrorCode.InvalidArgument });
    assert.equal(bus.opened.length, 1);
  });

  test('a hand-off replica that fails is followed by a plain request with the full prompt', async () => {
    const bus = new InMemoryTestBus();
    const prepared = bus.open(address, { request: { request_id: 'req.work.handoff' }, handoff_sentinel: 'S' }, { requestId: 'req', deadlineMs: Infinity, trace: {} });
    prepared.listen(() => undefined);
    const { call: c, seen } = call({ handoff: { prepared: { conversation: prepared, accepted: { replica: 'h1', control_subject: 'fslm.s.work.replica.h1', model: 'm', model_version: 'v1', adapter_version: '' }, sent: 'text' }, text: 'text of the stage before' } });
    const running = runStage(bus, c, config);
    // The prepared replica is started with the previous stage's whole text and this stage's deadline.
    assert.equal(prepared.controls[0].start?.text, 'text of the stage before');
    assert.equal(Number(prepared.controls[0].start?.deadline_unix_ms), Math.round(c.deadlineMs));
    prepared.fail(errors.internal('hand-off prefill failed'));
    const plain = await bus.opening(1);
    assert.equal(plain.run.handoff_sentinel ?? '', '', 'the retry is a plain request');
    assert.deepEqual(plain.run.request?.messages, c.request.messages);
    plain.accept('r2');
    plain.result('answer');
    const done = await running;
    assert.equal(done.streamedHandoff, false);
    assert.equal(done.attempts, 2);
    assert.deepEqual(seen.started, [1, 2]);
    assert.equal(prepared.cancelled, 'cancelled');
  });

  test('the stage may use all the time left of the request; at the deadline it ends with DEADLINE_EXCEEDED and the replica is told', async () => {
    const bus = new InMemoryTestBus();
    const deadlineMs = Date.now() + 300;
    const { call: c } = call({ deadlineMs });
    const running = runStage(bus, c, { ...config, heartbeatTimeoutMs: 60_000 });
    const conversation = await bus.opening(0);
    assert.equal(conversation.headers.deadlineMs, deadlineMs, 'the replica is given the same deadline');
    conversation.accept();
    await assert.rejects(running, { code: ErrorCode.DeadlineExceeded });
    assert.equal(conversation.cancelled, 'deadline');
  });

  test('an abort (client gone) cancels the replica and rejects with the abort reason', async () => {
    const bus = new InMemoryTestBus();
    const { call: c, abort } = call();
    const running = runStage(bus, c, config);
    const conversation: TestConversation = await bus.opening(0);
    conversation.accept();
    abort.abort(errors.cancelled('the HTTP client disconnected'));
    await assert.rejects(running, { code: ErrorCode.Cancelled, message: 'the HTTP client disconnected' });
    assert.equal(conversation.cancelled, 'cancelled');
  });

  test('retries stop at maxAttempts with the last error', async () => {
    const bus = new InMemoryTestBus();
    const { call: c } = call();
    const running = runStage(bus, c, config);
    for (let i = 0; i < config.maxAttempts; i++) (await bus.opening(i)).fail(errors.resourceExhausted('queue full'));
    await assert.rejects(running, { code: ErrorCode.ResourceExhausted });
    assert.equal(bus.opened.length, config.maxAttempts);
  });

  test('nothing is opened when the request was aborted or its deadline passed before the stage', async () => {
    const bus = new InMemoryTestBus();
    const { call: late } = call({ deadlineMs: Date.now() - 1 });
    await assert.rejects(runStage(bus, late, config), { code: ErrorCode.DeadlineExceeded });
    const { call: gone, abort } = call();
    abort.abort(errors.cancelled());
    await assert.rejects(runStage(bus, gone, config), { code: ErrorCode.Cancelled });
    assert.equal(bus.opened.length, 0);
  });
});

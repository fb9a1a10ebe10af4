// The OpenAI streaming door (openai-stream.ts) over a real HTTP server, with the stages played by the
// test on InMemoryTestBus: the HTTP status before the first byte, the error event and [DONE] after
// it, and a retried final stage that never repeats or mixes text.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { errors } from '../../shared/errors.ts';
import { Admission } from '../src/admission.ts';
import { startRouterHttpServer, type RouterHttpServer } from '../src/openai-http.ts';
import { RouterMetrics } from '../src/router-metrics.ts';
import { parseStack } from '../src/stack-loader.ts';
import { StackRunner } from '../src/stack-runner.ts';
import { InMemoryTestBus, type TestConversation } from './support/in-memory-test-bus.ts';

const stack = parseStack(`apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: { name: demo }
spec:
  stages:
    - { name: first, model: m, template: "Say: {input}" }
    - { name: last, model: m, template: "Go on: {stages.first}" }
`);
let bus: InMemoryTestBus;
let server: RouterHttpServer;

/** Starts a streaming request; resolves with the response once its headers came. */
function stream(requestId: string, extra: Record<string, unknown> = {}) {
  return fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'demo', stream: true, messages: [{ role: 'user', content: 'hi' }], fslm: { request_id: requestId, disable_handoff: true }, ...extra }),
  });
}

/** The SSE data lines of a finished response. */
async function events(response: Response): Promise<string[]> {
  return (await response.text()).split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => b.slice(6));
}

const content = (data: string[]) => data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d).choices?.[0]?.delta?.content ?? '').join('');

describe('OpenAI streaming door', { timeout: 30_000 }, () => {
  before(async () => {
    bus = new InMemoryTestBus().describeAll(['fslm.demo.first', 'fslm.demo.last']);
    const runner = new StackRunner({
      bus, stacks: new Map([[stack.name, stack]]), admission: new Admission(4), tracer: trace.getTracer('test'),
      metrics: new RouterMetrics(new MeterProvider().getMeter('test')), config: { heartbeatMs: 250, heartbeatTimeoutMs: 60_000, maxAttempts: 3, handoffMaxInFlight: 0 },
    });
    server = await startRouterHttpServer({ runner, stacks: new Map([[stack.name, stack]]), handoff: false, metricsHandler: (_q, s) => s.end() }, '127.0.0.1', 0);
  });
  after(() => server?.close());

  test('a stream that fails before its first text gets the HTTP error status and an OpenAI body, not a 200', async () => {
    const pending = stream('fails-first');
    const first = await bus.nextOpen();
    first.accept();
    first.fail(errors.invalidArgument('the prompt has 9000 tokens; this stage accepts at most 4096', 'prompt'));
    const response = await pending;
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.deepEqual(body.fslm, { code: 'INVALID_ARGUMENT', stage: 'first' });
  });

  test('a stream that fails after it began ends with an error event, then [DONE]', async () => {
    const pending = stream('fails-later');
    const first = await bus.nextOpen();
    first.accept();
    first.delta('Hello');
    const response = await pending;
    assert.equal(response.status, 200);
    first.result('Hello');
    const last = await bus.nextOpen();
    last.accept();
    last.fail(errors.unavailable('no replica is listening'), true);
    const data = await events(response);
    assert.equal(data.at(-1), '[DONE]');
    const error = JSON.parse(data.at(-2)!);
    assert.equal(error.error.type, 'server_error');
    assert.deepEqual(error.fslm, { event: 'error', code: 'UNAVAILABLE', stage: 'last' });
  });

  test('a final stage retried with the same text: the client gets it once', async () => {
    const pending = stream('retried-same');
    const first = await bus.nextOpen();
    first.accept();
    first.result('one');
    const lost = await bus.nextOpen();
    lost.accept('r1');
    lost.delta('The sky ', 0);
    lost.delta('is', 1);
    const response = await pending;
    lost.fail(errors.unavailable('the replica went away'));
    const retry = await bus.nextOpen();
    retry.accept('r2');
    retry.delta('The sky is', 0);
    retry.delta(' blue.', 1);
    retry.result('The sky is blue.');
    const data = await events(response);
    assert.equal(content(data), 'The sky is blue.');
    assert.equal(data.at(-1), '[DONE]');
    const final = data.map((d) => (d === '[DONE]' ? null : JSON.parse(d))).find((d) => d?.fslm?.event === 'final');
    assert.equal(final.fslm.stages[1].attempts, 2);
  });

  test('a final stage retried with other text: the stream ends with an error, and the retry is stopped', async () => {
    const pending = stream('retried-other');
    const first = await bus.nextOpen();
    first.accept();
    first.result('one');
    const lost = await bus.nextOpen();
    lost.accept('r1');
    lost.delta('The sky is');
    const response = await pending;
    lost.fail(errors.unavailable('the replica went away'));
    const retry = await bus.nextOpen();
    retry.accept('r2');
    retry.delta('The sea');
    const data = await events(response);
    assert.equal(content(data), 'The sky is', 'nothing of the other attempt reached the client');
    assert.equal(data.at(-1), '[DONE]');
    assert.match(JSON.parse(data.at(-2)!).error.message, /retried on another replica.*differs/);
    assert.equal(retry.cancelled, 'cancelled');
  });

  test('a retried final stage with logprobs: each token\'s entry reaches the client once, the result\'s rest with the last chunk', async () => {
    const entry = (token: string, id: number) => ({ token_id: id, token, logprob: -0.5, top_logprobs: [{ token_id: id, token, logprob: -0.5 }] });
    const delta = (c: TestConversation, seq: number, text: string, entries: ReturnType<typeof entry>[]) => c.emit({
      type: 'delta', delta: { seq: String(seq), text, tokens: entries.length, logprobs: entries },
    });
    const all = [entry('The', 1), entry(' sky', 2), entry(' is', 3), entry('\uFFFD', 4), entry('<|im_end|>', 5)];
    const pending = stream('retried-logprobs', { logprobs: true, top_logprobs: 1 });
    const first = await bus.nextOpen();
    first.accept();
    first.result('one');
    const lost = await bus.nextOpen();
    lost.accept('r1');
    delta(lost, 0, 'The sky', all.slice(0, 2));
    const response = await pending;
    lost.fail(errors.unavailable('the replica went away'));
    const retry = await bus.nextOpen();
    retry.accept('r2');
    delta(retry, 0, 'The', all.slice(0, 1));
    delta(retry, 1, ' sky is', all.slice(1, 3));
    retry.emit({
      type: 'result',
      result: {
        text: 'The sky is', finish_reason: 'FINISH_REASON_EOS', usage: { prompt_tokens: 3, completion_tokens: 5 },
        timings: { queue_ms: 0, prefill_ms: 1, first_token_ms: 1, decode_ms: 1, total_ms: 2 }, model_version: 'v1', request_id: retry.requestId, logprobs: all,
      },
    });
    const chunks = (await events(response)).filter((d) => d !== '[DONE]').map((d) => JSON.parse(d));
    assert.equal(content(chunks.map((c) => JSON.stringify(c))), 'The sky is');
    const sent = chunks.flatMap((c) => c.choices?.[0]?.logprobs?.content ?? []);
    assert.deepEqual(sent.map((e: { token: string }) => e.token), all.map((e) => e.token));
    assert.deepEqual(sent[1], { token: ' sky', logprob: -0.5, bytes: [...Buffer.from(' sky')], top_logprobs: [{ token: ' sky', logprob: -0.5, bytes: [...Buffer.from(' sky')] }] });
    assert.equal(sent[3].bytes, null, 'a partial character shown as U+FFFD has no bytes');
    assert.ok(chunks.every((c) => c.choices?.[0]?.logprobs === undefined || c.choices[0].logprobs === null || c.choices[0].logprobs.refusal === null));
  });
});

// What the router refuses at its doors, against a real 4-stage stack (tiny model, hand-off on): every
// bad value is refused before any stage is opened, naming the field and the limit, with the right HTTP
// status (never a 200 for a stream that fails first), and the stack keeps serving. The stages' own
// request logs and engine counters show that no stage saw the refused requests.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { testModels } from '../support/models.ts';
import { busyParts, stageHolds, waitFor } from '../support/stage-probe.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { grpcCode, run } from './support/grpc-calls.ts';
import { StackBuilder } from './support/stack-builder.ts';

const stack = StackBuilder.fourRoles('tiny4', 16);
const ORIGIN = 'http://app.example';
const HUGE = 'The quick brown fox jumps over the lazy dog near the quiet river bank. '.repeat(800);
let cluster: Cluster;

async function post(body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`http://${cluster.http}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type'), headers: response.headers, text, json: () => JSON.parse(text) };
}

const chat = (extra: Record<string, unknown>, requestId: string) => ({
  model: 'tiny4', messages: [{ role: 'user', content: 'Why is the sky blue?' }], ...extra, fslm: { request_id: requestId },
});

/**
 * Shows that no stage saw any request whose id starts with `prefix`: a request sent after them (same
 * router, same NATS connection, so it reaches every stage after them) has been logged by every stage,
 * every stage is idle, and none logged the refused ones.
 */
async function noStageSaw(prefix: string, control: string): Promise<void> {
  const response = await post(chat({ fslm: undefined }, control), {});
  assert.equal(response.status, 200, response.text);
  for (const [name, [replica]] of cluster.stages) {
    await replica.waitForEvent((e) => e.event === 'request' && String(e.request_id).startsWith(`${control}.`), 30_000);
    await waitFor(`stage ${name} idle`, async () => busyParts(await stageHolds(String(replica.ready.metrics))).length === 0);
    const seen = replica.events.filter((e) => String(e.request_id ?? '').startsWith(prefix));
    assert.deepEqual(seen, [], `stage ${name} saw refused requests`);
  }
}

describe('router door checks', { timeout: 600_000 }, () => {
  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'], routerEnv: { FSLM_ROUTER_CORS_ORIGINS: ORIGIN } });
  }, { timeout: 300_000 });
  after(() => cluster?.stop(), { timeout: 120_000 });

  test('a huge input with the hand-off on is refused before any stage opens, and the next request is served', async () => {
    const http = await post({ ...chat({}, 'huge-1'), messages: [{ role: 'user', content: HUGE }] });
    assert.equal(http.status, 400);
    const { error, fslm } = http.json();
    assert.equal(error.param, 'messages');
    assert.equal(error.code, 'context_length_exceeded');
    assert.match(error.message, /at least \d+ tokens for stage understand, which accepts at most \d+/);
    assert.equal(fslm.code, 'INVALID_ARGUMENT');
    await assert.rejects(run(cluster.client, { input: HUGE, request_id: 'huge-2' }), (e: Error & { details?: string }) => grpcCode(e) === 'INVALID_ARGUMENT' && /at most \d+/.test(e.details ?? ''));
    await noStageSaw('huge-', 'after-huge');
  });

  test('numbers out of range, wrong types and unknown stages are refused at the door, naming the field and the limit', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ max_tokens: 0 }, 'max_tokens', /expected an integer >= 1/],
      [{ max_tokens: 4294967296 }, 'max_tokens', /4294967296 is out of range/],
      [{ max_tokens: 3000 }, 'max_tokens', /at most \d+, the limit of stage final/],
      [{ max_tokens: 2.5 }, 'max_tokens', /expected an integer/],
      [{ temperature: -0.5 }, 'temperature', /\[0, 2\]/],
      [{ top_p: 0 }, 'top_p', /\(0, 1\]/],
      [{ response_format: { type: 'json_object' } }, 'response_format', /structured output/],
      [{ tool_choice: 'required', tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }] }, 'tools', /cannot call tools/],
    ];
    for (const [i, [extra, param, message]] of cases.entries()) {
      const response = await post(chat(extra, `bad-${i}`));
      assert.equal(response.status, 400, `${JSON.stringify(extra)}: ${response.text}`);
      assert.equal(response.json().error.param, param);
      assert.match(response.json().error.message, message);
    }
    // A stream that fails before its first byte gets the HTTP error status, not 200 and an event.
    const stream = await post(chat({ stream: true, max_tokens: -1 }, 'bad-stream'));
    assert.equal(stream.status, 400);
    assert.match(stream.type ?? '', /application\/json/);
    assert.equal(stream.json().error.param, 'max_tokens');
    const grpcCases: Array<[Record<string, unknown>, RegExp]> = [
      [{ final: { max_new_tokens: 100_000 } }, /params\.final\.max_new_tokens.*at most \d+, the limit of stage final/],
      [{ keywords: { temperature: Number.NaN } }, /params\.keywords\.temperature/],
      [{ intermediate: { top_p: 1.5 } }, /params\.intermediate\.top_p/],
      [{ nosuch: { max_new_tokens: 4 } }, /params\.nosuch.*no stage "nosuch"/],
    ];
    for (const [i, [params, message]] of grpcCases.entries()) {
      await assert.rejects(run(cluster.client, { input: 'hi', request_id: `bad-grpc-${i}`, params: params as never }),
        (e: Error & { details?: string }) => grpcCode(e) === 'INVALID_ARGUMENT' && message.test(e.details ?? ''), JSON.stringify(params));
    }
    await noStageSaw('bad-', 'after-bad');
  });

  test('the real OpenAI client gets 400 with param and code, and 404 model_not_found', async () => {
    const openai = new OpenAI({ baseURL: `http://${cluster.http}/v1`, apiKey: 'not-needed', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'hi' }];
    await assert.rejects(openai.chat.completions.create({ model: 'tiny4', max_tokens: 0, messages }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'max_tokens' && e.code === 'integer_below_min_value');
    await assert.rejects(openai.chat.completions.create({ model: 'tiny4', stream: true, max_tokens: -1, messages }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'max_tokens');
    await assert.rejects(openai.chat.completions.create({ model: 'no-such-stack', messages }),
      (e: unknown) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found' && e.param === 'model');
    await assert.rejects(openai.models.retrieve('no-such-model'), (e: unknown) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
  });

  test('a stack name a client makes up never becomes a metric label', async () => {
    assert.equal((await post({ ...chat({}, 'label-1'), model: 'made-up-label-x1' })).status, 404);
    assert.equal((await fetch(`http://${cluster.http}/v1/models/made-up-label-x2`)).status, 404);
    await assert.rejects(run(cluster.client, { stack: 'made-up-label-x3', input: 'hi' }), (e) => grpcCode(e) === 'NOT_FOUND');
    const metrics = await (await fetch(`http://${cluster.http}/metrics`)).text();
    assert.doesNotMatch(metrics, /made-up-label/);
    assert.match(metrics, /fslm_router_errors\w*\{[^}]*fslm_stack="\(unknown\)"/);
    for (const [, value] of metrics.matchAll(/fslm_stack="([^"]*)"/g)) assert.ok(value === 'tiny4' || value === '(unknown)', value);
  });

  test('CORS preflight, HEAD, other methods and a garbled path are answered; only the configured origin is allowed', async () => {
    const url = `http://${cluster.http}/v1/chat/completions`;
    const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), ORIGIN);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type, authorization');
    const stranger = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://other.example', 'access-control-request-method': 'POST' } });
    assert.equal(stranger.status, 204);
    assert.equal(stranger.headers.get('access-control-allow-origin'), null);
    const refused = await post(chat({ max_tokens: 0 }, 'cors-1'), { origin: ORIGIN });
    assert.equal(refused.headers.get('access-control-allow-origin'), ORIGIN, 'error responses carry CORS headers too');
    const head = await fetch(`http://${cluster.http}/v1/models`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.ok(Number(head.headers.get('content-length')) > 0);
    assert.equal(await head.text(), '');
    assert.equal((await fetch(`http://${cluster.http}/healthz`, { method: 'HEAD' })).status, 200);
    const wrong = await fetch(`http://${cluster.http}/v1/models`, { method: 'DELETE' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET, HEAD, OPTIONS');
    assert.equal((await wrong.json()).error.code, 'method_not_allowed');
    const garbled = await fetch(`http://${cluster.http}/v1/models/%E0%A4%A`);
    assert.equal(garbled.status, 400);
    assert.equal((await garbled.json()).error.param, 'model');
    assert.equal((await fetch(`http://${cluster.http}/healthz`)).status, 200, 'the router keeps serving');
  });
});

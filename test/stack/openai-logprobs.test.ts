// OpenAI `logprobs` / `top_logprobs` on the router's HTTP door against a real 2-stage stack (tiny model,
// real nats-server, stage and router processes): the reported entries are the final stage's, equal to
// what that stage's own StageService.Generate returns for the same greedy request (its messages
// rendered from the stack as the router renders them), whole or streamed chunk by chunk; bad values
// are refused with a 400 naming the field before any stage runs.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, test } from 'node:test';
import type { GenerateResponse__Output } from '../../services/shared/generated/fslm/v1/GenerateResponse.ts';
import type { GenerationParams } from '../../services/shared/generated/fslm/v1/GenerationParams.ts';
import type { TokenLogprob__Output } from '../../services/shared/generated/fslm/v1/TokenLogprob.ts';
import type { StageServiceClient } from '../../services/shared/generated/fslm/v1/StageService.ts';
import { loadStackFile, stageRequest } from '../../services/router/src/index.ts';
import type { ProtoGrpcType } from '../../services/shared/generated/stage.ts';
import { loadGrpcObject } from '../../services/shared/proto.ts';
import { testModels } from '../support/models.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { StackBuilder } from './support/stack-builder.ts';

const MAX_TOKENS = 10;
const TOP = 3;
const INPUT = 'Why is the sky blue?';
const stack = new StackBuilder('lp2')
  .stage({ name: 'first', system: 'You restate requests.', template: 'Restate this request: {input}', params: { maxNewTokens: 8, temperature: 0 } })
  .stage({ name: 'final', system: 'Answer briefly.', template: 'Request: {input}\n\nNotes: {stages.first}', params: { maxNewTokens: 24, temperature: 0 } });
const stackFile = stack.write();
let cluster: Cluster;
let finalStage: StageServiceClient;

async function post(body: Record<string, unknown>) {
  const response = await fetch(`http://${cluster.http}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'lp2', messages: [{ role: 'user', content: INPUT }], ...body }),
  });
  return { status: response.status, text: await response.text() };
}

/** What the final stage's StageService.Generate returns for its messages given the first stage's text (greedy, with logprobs). */
async function stageLogprobs(firstText: string): Promise<TokenLogprob__Output[]> {
  const [, last] = (await loadStackFile(stackFile)).stages;
  const params: GenerationParams = { max_new_tokens: MAX_TOKENS, temperature: 0, logprobs: true, top_logprobs: TOP };
  // A template inserts an earlier stage's text trimmed, as the router does.
  const { messages } = stageRequest(last, { input: INPUT, stages: { first: firstText.trim() } }, params);
  const responses = await new Promise<GenerateResponse__Output[]>((resolve, reject) => {
    const out: GenerateResponse__Output[] = [];
    const call = finalStage.Generate({ messages, params, request_id: 'direct' });
    call.on('data', (r: GenerateResponse__Output) => out.push(r));
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
  return responses.at(-1)!.result!.logprobs;
}

/** The stage's entries in OpenAI's shape: bytes are the token text's UTF-8, none for a U+FFFD stand-in. */
function asOpenAi(entries: TokenLogprob__Output[]) {
  const bytes = (t: string) => (t.includes('\uFFFD') ? null : [...Buffer.from(t, 'utf8')]);
  return entries.map((e) => ({
    token: e.token, logprob: e.logprob, bytes: bytes(e.token),
    top_logprobs: e.top_logprobs.map((t) => ({ token: t.token, logprob: t.logprob, bytes: bytes(t.token) })),
  }));
}

const ask = { temperature: 0, max_tokens: MAX_TOKENS, logprobs: true, top_logprobs: TOP, fslm: { disable_handoff: true } };

describe('OpenAI logprobs on a real stack', { timeout: 600_000 }, () => {
  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'] });
    const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']);
    finalStage = new proto.fslm.v1.StageService(String(cluster.stages.get('final')![0].ready.grpc), grpc.credentials.createInsecure());
  }, { timeout: 300_000 });
  after(async () => {
    finalStage?.close();
    await cluster?.stop();
  }, { timeout: 120_000 });

  test('a completion\'s logprobs are the final stage\'s, equal to its StageService answer', async () => {
    const response = await post(ask);
    assert.equal(response.status, 200, response.text);
    const body = JSON.parse(response.text);
    const { content, refusal } = body.choices[0].logprobs;
    assert.equal(refusal, null);
    assert.equal(content.length, body.fslm.stages[1].usage.completion_tokens, 'one entry per generated token of the final stage');
    assert.deepEqual(content, asOpenAi(await stageLogprobs(body.fslm.stages[0].text)));
    assert.ok(content.every((e: { top_logprobs: unknown[] }) => e.top_logprobs.length === TOP));
    assert.ok(body.choices[0].message.content.startsWith(content.map((e: { token: string }) => e.token).join('').slice(0, 4)));
    const plain = JSON.parse((await post({ temperature: 0, max_tokens: MAX_TOKENS })).text);
    assert.equal(plain.choices[0].logprobs, null, 'no logprobs unless asked');
  });

  test('streamed, each chunk carries its tokens\' entries, and all of them equal the StageService answer', async () => {
    const response = await post({ ...ask, stream: true });
    assert.equal(response.status, 200, response.text);
    const chunks = response.text.split('\n\n').filter((b) => b.startsWith('data: ') && b !== 'data: [DONE]').map((b) => JSON.parse(b.slice(6)));
    const final = chunks.find((c) => c.fslm?.event === 'final');
    const withEntries = chunks.filter((c) => c.choices?.[0]?.logprobs);
    assert.ok(withEntries.length > 1, 'entries come with the chunks, not all at the end');
    assert.ok(withEntries.every((c) => c.choices[0].logprobs.content.length > 0));
    const streamed = withEntries.flatMap((c) => c.choices[0].logprobs.content);
    assert.deepEqual(streamed, asOpenAi(await stageLogprobs(final.fslm.stages[0].text)));
    const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
    assert.equal(text, final.fslm.stages[1].text);
  });

  test('bad values are refused with a 400 naming the field, and no stage runs', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ top_logprobs: 2 }, 'top_logprobs', /only allowed when logprobs is true/],
      [{ logprobs: false, top_logprobs: 1 }, 'top_logprobs', /only allowed when logprobs is true/],
      [{ logprobs: true, top_logprobs: 21 }, 'top_logprobs', /\[0, 20\]/],
      [{ logprobs: true, top_logprobs: 1.5 }, 'top_logprobs', /an integer/],
      [{ logprobs: 1 }, 'logprobs', /a boolean/],
    ];
    const before = cluster.stages.get('first')![0].events.filter((e) => e.event === 'request').length;
    for (const [extra, param, message] of cases) {
      const response = await post({ ...extra, fslm: { request_id: 'refused' } });
      assert.equal(response.status, 400, `${JSON.stringify(extra)}: ${response.text}`);
      const { error } = JSON.parse(response.text);
      assert.equal(error.param, param);
      assert.match(error.message, message);
    }
    // A request after the refused ones reaches the first stage; none of the refused ones did.
    assert.equal((await post({ temperature: 0, max_tokens: 2, fslm: { request_id: 'after-refused' } })).status, 200);
    await cluster.stages.get('first')![0].waitForEvent((e) => e.event === 'request' && String(e.request_id).startsWith('after-refused.'), 30_000);
    const seen = cluster.stages.get('first')![0].events.filter((e) => e.event === 'request');
    assert.equal(seen.length, before + 1);
    assert.deepEqual(seen.filter((e) => String(e.request_id).startsWith('refused')), []);
  });
});

// StackService.Score on a real stack (tiny model, real nats-server, stage and router processes): the
// earlier stages write what Run has them write, the last stage is asked exactly the messages its
// system prompt and template render from their texts, and the scores are the ones the last stage's own
// gRPC Score gives for those messages. Bad requests are refused naming the field before any stage runs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { ScoreResponse__Output } from '../../services/shared/generated/fslm/v1/ScoreResponse.ts';
import type { StackScoreRequest } from '../../services/shared/generated/fslm/v1/StackScoreRequest.ts';
import type { StackScoreResponse__Output } from '../../services/shared/generated/fslm/v1/StackScoreResponse.ts';
import type { StageServiceClient } from '../../services/shared/generated/fslm/v1/StageService.ts';
import type { ProtoGrpcType } from '../../services/shared/generated/stage.ts';
import { loadGrpcObject } from '../../services/shared/proto.ts';
import { testModels } from '../support/models.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { run } from './support/grpc-calls.ts';
import { StackBuilder } from './support/stack-builder.ts';

const stack = new StackBuilder('scored')
  .stage({ name: 'notes', system: 'You take notes.', template: 'Note the key words of: {input}', params: { maxNewTokens: 12, temperature: 0 } })
  .stage({ name: 'answer', system: 'You answer briefly.', template: 'Question: {input}\nNotes: {stages.notes}\nAnswer in one word.', params: { maxNewTokens: 8, temperature: 0 } });
const CONTINUATIONS = ['Blue', 'Green', 'The sky is blue.'];

describe('StackService.Score', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let lastStage: StageServiceClient;
  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'] });
    const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']);
    lastStage = new proto.fslm.v1.StageService(String(cluster.stages.get('answer')![0].ready.grpc), grpc.credentials.createInsecure());
  }, { timeout: 300_000 });
  after(async () => {
    lastStage?.close();
    await cluster?.stop();
  }, { timeout: 120_000 });

  const score = (request: StackScoreRequest): Promise<StackScoreResponse__Output> =>
    new Promise((resolve, reject) => cluster.client.Score(request, { deadline: Date.now() + 120_000 }, (e, r) => (e ? reject(e) : resolve(r!))));

  test('the earlier stages write, the last stage scores the continuations given its rendered prompt', async () => {
    const input = 'What color is the sky?';
    const scored = await score({ stack: 'scored', input, continuations: CONTINUATIONS, top_logprobs: 2, request_id: 'stack-score-1' });
    const ran = await run(cluster.client, { stack: 'scored', input });
    assert.deepEqual(scored.stages.map((s) => s.stage), ['notes']);
    assert.equal(scored.stages[0].text, ran.stages[0].text, 'the earlier stage wrote what Run has it write (greedy)');
    assert.equal(scored.scored_stage, 'answer');
    assert.deepEqual(scored.messages.map((m) => [m.role, m.content]), [
      ['system', 'You answer briefly.'],
      ['user', `Question: ${input}\nNotes: ${ran.stages[0].text}\nAnswer in one word.`],
    ]);
    const direct = await new Promise<ScoreResponse__Output>((resolve, reject) => lastStage.Score(
      { messages: scored.messages, continuations: CONTINUATIONS, top_logprobs: 2 }, (e, r) => (e ? reject(e) : resolve(r!))));
    assert.deepEqual(scored.score!.continuations, direct.continuations, 'the same scores as the last stage gives for those messages');
    assert.equal(scored.score!.prompt_tokens, direct.prompt_tokens);
    assert.equal(scored.model, 'tiny-onnx');
    assert.ok(scored.total_ms >= scored.score_ms && scored.score_ms > 0);
    assert.match(scored.trace_id, /^[0-9a-f]{32}$/);
  });

  test('bad score requests are refused naming the field', async () => {
    const cases: Array<[StackScoreRequest, RegExp]> = [
      [{ stack: 'scored', input: 'hi' }, /continuations/],
      [{ stack: 'scored', input: 'hi', continuations: ['a', ''] }, /continuations\[1\]/],
      [{ stack: 'scored', input: 'hi', continuations: ['a'], top_logprobs: 21 }, /top_logprobs/],
      [{ stack: 'scored', input: ' ', continuations: ['a'] }, /input/],
      [{ stack: 'nope', input: 'hi', continuations: ['a'] }, /does not exist/],
    ];
    for (const [request, field] of cases) {
      const error = await score(request).catch((e) => e);
      assert.ok([grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND].includes(error.code), `${JSON.stringify(request)}: ${error.message}`);
      assert.match(error.details, field);
    }
  });
});

// Score and generation logprobs on both doors of a real `fslm stage` process (tiny model, real
// nats-server): the gRPC Score and the NATS score subject answer the same numbers, bad requests are
// refused with the field named before any work, a score past its deadline or cancelled is dropped,
// and generation's logprobs come in the deltas and the result on gRPC and in NATS deltas and result.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { NatsConnection } from 'nats';
import { busCodec, requestHeaders, subjects } from '../../services/shared/bus-codec.ts';
import { errorOfReply } from '../../services/shared/bus-errors.ts';
import { ErrorCode } from '../../services/shared/errors.ts';
import type { ScoreRequest } from '../../services/shared/generated/fslm/v1/ScoreRequest.ts';
import type { ScoreResponse__Output } from '../../services/shared/generated/fslm/v1/ScoreResponse.ts';
import type { GenerateResponse__Output } from '../../services/shared/generated/fslm/v1/GenerateResponse.ts';
import type { StageServiceClient } from '../../services/shared/generated/fslm/v1/StageService.ts';
import { testModels } from '../support/models.ts';
import type { FslmProcess } from '../support/processes.ts';
import { stageHolds, waitFor } from '../support/stage-probe.ts';
import { startOneStage, type OneStage } from './support/one-stage.ts';
import { openRun } from './support/stage-bus.ts';

const PREFIX = subjects.prefix('scoring', 'final');
const REQUEST: ScoreRequest = {
  messages: [{ role: 'system', content: 'Answer with one word.' }, { role: 'user', content: 'What color is the sky?' }],
  continuations: ['Blue', 'Green', 'The sky is blue.'], top_logprobs: 3,
};

describe('Score and logprobs on a stage\'s gRPC and NATS doors', { timeout: 300_000 }, () => {
  let running: OneStage | undefined;
  let stage: FslmProcess;
  let nc: NatsConnection;
  let client: StageServiceClient;

  before(async () => {
    running = await startOneStage(testModels('tiny')['tiny-onnx'],
      ['--stack', 'scoring', '--stage', 'final', '--threads', '1', '--max-batch', '2', '--max-queue', '2', '--metrics', '127.0.0.1:0']);
    ({ stage, nc, client } = running);
  });
  after(() => running?.stop());

  function grpcScore(request: ScoreRequest, options: grpc.CallOptions = {}): Promise<ScoreResponse__Output> {
    return new Promise((resolve, reject) => client.Score(request, options, (e, r) => (e ? reject(e) : resolve(r!))));
  }

  async function natsScore(request: ScoreRequest, deadlineMs = Date.now() + 60_000): Promise<ScoreResponse__Output> {
    const reply = await nc.request(subjects.score(PREFIX), busCodec.encodeScoreRequest(request), {
      timeout: 60_000, headers: requestHeaders(request.request_id ?? 'nats-score', deadlineMs),
    });
    const error = errorOfReply(reply);
    if (error) throw error;
    return busCodec.decodeScoreResponse(reply.data);
  }

  test('gRPC Score and the NATS score subject give the same scores', async () => {
    const overGrpc = await grpcScore({ ...REQUEST, request_id: 'score-grpc' });
    const overNats = await natsScore({ ...REQUEST, request_id: 'score-nats' });
    assert.equal(overGrpc.continuations.length, 3);
    for (const [i, c] of overGrpc.continuations.entries()) {
      assert.ok(c.tokens.length > 0);
      assert.ok(Math.abs(c.logprob - c.tokens.reduce((s, t) => s + t.logprob, 0)) < 1e-9, 'logprob is the sum of the tokens');
      assert.ok(c.tokens.every((t) => t.logprob <= 0 && t.top_logprobs.length === 3));
      assert.deepEqual(overNats.continuations[i], c, `continuation ${i} is the same on both doors`);
    }
    assert.equal(overGrpc.prompt_tokens, overNats.prompt_tokens);
    assert.match(overGrpc.model_version, /^[0-9a-f]{64}$/);
    assert.equal(overGrpc.request_id, 'score-grpc');
  });

  test('bad score requests are refused with the field named, on both doors', async () => {
    const cases: Array<[ScoreRequest, RegExp]> = [
      [{ prompt: 'Hi' }, /continuations is empty/],
      [{ prompt: 'Hi', continuations: [' a', ''] }, /continuations\[1\] is empty/],
      [{ prompt: 'Hi', continuations: Array(65).fill(' a') }, /at most 64 continuations/],
      [{ prompt: 'Hi', continuations: [' a'], top_logprobs: 21 }, /top_logprobs must be an integer from 0 to 20/],
      [{ prompt: 'Hi', messages: [{ role: 'user', content: 'x' }], continuations: [' a'] }, /either prompt or messages/],
      [{ prompt: 'Hi', continuations: ['word '.repeat(2100)] }, /accepts at most 2047/],
    ];
    for (const [request, message] of cases) {
      const viaGrpc = await grpcScore(request).catch((e) => e);
      assert.equal(viaGrpc.code, grpc.status.INVALID_ARGUMENT, String(message));
      assert.match(viaGrpc.details, message);
      const viaNats = await natsScore(request).catch((e) => e);
      assert.equal(viaNats.code, ErrorCode.InvalidArgument);
      assert.match(viaNats.message, message);
    }
    const malformed = await nc.request(subjects.score(PREFIX), new Uint8Array([0xff, 0xff, 0xff]), { timeout: 10_000 });
    assert.equal(errorOfReply(malformed)?.code, ErrorCode.InvalidArgument);
  });

  test('a score past its deadline, or cancelled, is dropped and the stage holds nothing after', async () => {
    const long = { prompt: 'The quick brown fox jumps over the lazy dog. '.repeat(150), continuations: [' and then', ' it sleeps'] };
    const late = await grpcScore({ ...long, request_id: 'late' }, { deadline: Date.now() + 5 }).catch((e) => e);
    assert.equal(late.code, grpc.status.DEADLINE_EXCEEDED);
    const expired = await natsScore({ ...long, request_id: 'expired' }, Date.now() - 1).catch((e) => e);
    assert.equal(expired.code, ErrorCode.DeadlineExceeded);
    // The cancel follows the request on the same connection: it reaches the replica while the prompt's
    // chunks are being prefilled.
    const cancelled = natsScore({ ...long, request_id: 'to-cancel' }).catch((e) => e);
    nc.publish(subjects.cancel(PREFIX), busCodec.encodeControl({ request_id: 'to-cancel', cancel: { reason: 'cancelled' } }));
    assert.equal((await cancelled).code, ErrorCode.Cancelled);
    await waitFor('the stage to hold nothing', async () => {
      const h = await stageHolds(String(stage.ready.metrics));
      return h.admitted === 0 && h.kvRows === 0 && h.inFlight === 0;
    });
  });

  test('generation logprobs come in gRPC deltas and result, and in NATS deltas and result', async () => {
    const params = { max_new_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 2 };
    const responses = await new Promise<GenerateResponse__Output[]>((resolve, reject) => {
      const out: GenerateResponse__Output[] = [];
      const call = client.Generate({ prompt: 'Once upon a time', params });
      call.on('data', (r: GenerateResponse__Output) => out.push(r));
      call.on('error', reject);
      call.on('end', () => resolve(out));
    });
    const result = responses.at(-1)!.result!;
    assert.equal(result.logprobs.length, result.usage!.completion_tokens);
    const streamed = responses.slice(0, -1).flatMap((r) => r.delta!.logprobs);
    assert.deepEqual(streamed, result.logprobs.slice(0, streamed.length));
    assert.ok(result.logprobs.every((l) => l.top_logprobs.length === 2 && l.top_logprobs[0].logprob >= l.logprob - 1e-6));
    // The same request on NATS: the same numbers.
    const run = openRun(nc, PREFIX, { request: { prompt: 'Once upon a time', params, request_id: 'gen-nats' }, stack: 'scoring', stage: 'final', attempt: 1, heartbeat_ms: 100, handoff_sentinel: '' });
    const end = await run.end(60_000);
    run.close();
    assert.equal(end.error, null);
    assert.deepEqual(end.result!.logprobs, result.logprobs);
    const natsDeltas = run.events.filter((e) => e.delta).flatMap((e) => e.delta!.logprobs);
    assert.deepEqual(natsDeltas, result.logprobs.slice(0, natsDeltas.length));
    const refused = await new Promise<grpc.ServiceError>((resolve) => {
      const call = client.Generate({ prompt: 'Hi', params: { top_logprobs: 3 } });
      call.on('error', resolve);
      call.on('data', () => undefined);
    });
    assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
    assert.match(refused.details, /top_logprobs needs params.logprobs/);
  });
});

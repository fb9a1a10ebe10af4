// When the replica the streamed hand-off prepared fails (it refuses the prompt once the previous
// stage's text has arrived, or it dies), the stage is run again as a plain request with its whole
// prompt: the client gets the stage's real answer or its real refusal, never a request the router
// sent empty. A refusal for the prompt's size reaches an OpenAI client as context_length_exceeded, as the
// router's own check does. Real nats-server, real `fslm stage` and `fslm router` processes, tiny model (context
// 2048 positions).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testModels } from '../support/models.ts';
import { busyParts, stageHolds, waitFor } from '../support/stage-probe.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { grpcCode, run, runStream } from './support/grpc-calls.ts';
import { StackBuilder } from './support/stack-builder.ts';

/** The context of the tiny model, in positions. */
const CONTEXT = 2048;

describe('a failed hand-off replica is followed by a plain request with the whole prompt', { timeout: 600_000 }, () => {
  const stack = new StackBuilder('fallback')
    .stage({ name: 'a', template: 'Restate: {input}', params: { maxNewTokens: 16, temperature: 0 } })
    .stage({ name: 'b', template: 'Request: {input}\nRestated: {stages.a}', params: { maxNewTokens: 8, temperature: 0 } });
  let cluster: Cluster;
  const metricsOf = (stage: string) => cluster.stages.get(stage)!.map((p) => String(p.ready.metrics));
  const assertIdle = async (what: string) => {
    for (const name of stack.stageNames) {
      for (const address of metricsOf(name)) {
        await waitFor(`${name} at ${address} to hold nothing ${what}`, async () => busyParts(await stageHolds(address)).length === 0, 30_000);
      }
    }
  };

  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'], replicas: { a: 1, b: 2 } });
  }, { timeout: 300_000 });
  after(() => cluster?.stop(), { timeout: 120_000 });

  test('a prompt the hand-off replica refuses at its start is refused for its size, with and without the hand-off', async () => {
    const input = 'Name a colour.';
    // Stage b's whole prompt (a's text included) as a plain request counts it; one new token more than
    // the context leaves passes the router's lower bound and every check of the growing hand-off prompt,
    // and is refused only when the replica completes the prompt at its start.
    const measured = await run(cluster.client, { input, params: { b: { max_new_tokens: 8 } }, disable_handoff: true });
    const promptTokens = measured.stages[1].usage!.prompt_tokens;
    const maxNewTokens = CONTEXT - promptTokens + 1;
    for (const disableHandoff of [false, true]) {
      const requestId = `too-long-${disableHandoff ? 'plain' : 'handoff'}`;
      const error = await run(cluster.client, { input, request_id: requestId, params: { b: { max_new_tokens: maxNewTokens } }, disable_handoff: disableHandoff })
        .then(() => null, (e: unknown) => e);
      assert.ok(error, `the request is refused (disable_handoff ${disableHandoff})`);
      assert.equal(grpcCode(error), 'INVALID_ARGUMENT');
      const message = (error as Error).message;
      assert.doesNotMatch(message, /prompt is empty/, 'the plain retry carried the prompt');
      assert.match(message, new RegExp(`the prompt has ${promptTokens} tokens and max_new_tokens is ${maxNewTokens}: .* exceeds the model's context of ${CONTEXT} positions`),
        `a refusal for the prompt's size (disable_handoff ${disableHandoff})`);
    }
    const handoffLog = await Promise.any(cluster.stages.get('b')!.map((p) =>
      p.waitForEvent((e) => e.event === 'request' && e.request_id === 'too-long-handoff.b.handoff', 30_000)));
    assert.equal(handoffLog.outcome, 'INVALID_ARGUMENT', 'the hand-off replica was opened and refused the prompt at its start');
    // On the OpenAI door the stage's exact count is refused like the router's own lower bound: OpenAI's
    // context_length_exceeded on the input field, naming the stage.
    for (const disableHandoff of [false, true]) {
      const response = await fetch(`http://${cluster.http}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fallback', max_tokens: maxNewTokens, messages: [{ role: 'user', content: input }], fslm: { disable_handoff: disableHandoff } }),
      });
      assert.equal(response.status, 400);
      const body = (await response.json()) as { error: { code: string; param: string; message: string }; fslm: { code: string; stage: string } };
      assert.deepEqual([body.error.code, body.error.param, body.fslm.code, body.fslm.stage], ['context_length_exceeded', 'messages', 'INVALID_ARGUMENT', 'b'],
        `disable_handoff ${disableHandoff}: ${body.error.message}`);
      assert.match(body.error.message, /exceeds the model's context/);
    }
    const stream = await runStream(cluster.client, { input, params: { b: { max_new_tokens: maxNewTokens } } });
    const errorEvent = stream.events.find((e) => e.error)?.error;
    assert.equal(errorEvent?.stage, 'b', 'the stream names the stage that refused');
    assert.match(errorEvent?.message ?? '', /exceeds the model's context/);
    await assertIdle('after the refusals');
    const next = await run(cluster.client, { input: 'Name a colour.' });
    assert.equal(next.stages.length, 2, 'the stack serves the next request');
  });

  test('a hand-off replica killed while it waits for its start: the other replica answers the plain retry with the same greedy text', async () => {
    const input = 'Name three colours and say why the sky is blue.';
    const params = { a: { max_new_tokens: 1200 }, b: { max_new_tokens: 8 } };
    const expected = await run(cluster.client, { input, params, disable_handoff: true });
    const replicas = cluster.stages.get('b')!;
    const pending = run(cluster.client, { input, params });
    // The replica the hand-off opened holds a prompt awaiting its start while stage a streams.
    const opened = await waitFor('a stage b replica to hold the hand-off', async () => {
      for (const replica of replicas) {
        const holds = await stageHolds(String(replica.ready.metrics));
        if (holds.jobsAwaitingStart > 0 || holds.handoffOpen > 0) return replica;
      }
      return undefined;
    }, 60_000, 5);
    await opened.stop('SIGKILL');
    const response = await pending;
    assert.deepEqual(response.stages.map((s) => s.text), expected.stages.map((s) => s.text), 'the same greedy text as a plain run');
    assert.equal(response.stages[1].streamed_handoff, false, 'stage b was answered by a plain request');
    assert.ok(response.stages[1].attempts >= 2, 'after the hand-off attempt failed');
    assert.notEqual(response.stages[1].replica, opened.ready.replica, 'by the replica that is still alive');
  });
});

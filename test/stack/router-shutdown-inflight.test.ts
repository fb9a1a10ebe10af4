// A router that stops while HTTP requests are in flight ends each of them properly: after its grace
// (FSLM_ROUTER_SHUTDOWN_GRACE_MS, 1 ms here) a stream that has begun gets an error event (UNAVAILABLE)
// and `[DONE]`, a plain request gets a 503 with an OpenAI error body, never a cut connection or a
// stream that just stops; the stage stops working on them. Real nats-server, `fslm stage` (tiny model)
// and `fslm router` processes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spawnNatsServer } from '../../services/cli/up-processes.ts';
import { testModels } from '../support/models.ts';
import { startFslm, type FslmProcess } from '../support/processes.ts';
import { busyParts, stageHolds, waitFor } from '../support/stage-probe.ts';
import { StackBuilder } from './support/stack-builder.ts';

const stackFile = new StackBuilder('draining')
  .stage({ name: 'only', template: 'Tell a long story about {input}.', params: { maxNewTokens: 2000, temperature: 0 } })
  .write();

/** The `data:` payloads of a server-sent event stream read to its end. */
async function readEvents(body: ReadableStream<Uint8Array>, onData: (data: string) => void): Promise<string[]> {
  const events: string[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (block.startsWith('data: ')) {
        events.push(block.slice(6));
        onData(block.slice(6));
      }
    }
  }
  return events;
}

describe('requests in flight when the router stops', { timeout: 300_000 }, () => {
  const nats = spawnNatsServer();
  let stage: FslmProcess;
  let router: FslmProcess;

  before(async () => {
    const url = String((await nats.ready).url);
    stage = await startFslm(['stage', '--model', testModels('tiny')['tiny-onnx'], '--grpc', '127.0.0.1:0', '--nats', url,
      '--stack', 'draining', '--stage', 'only', '--threads', '1', '--metrics', '127.0.0.1:0']);
    router = await startFslm(['router', '--stack', stackFile, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--nats', url],
      { env: { FSLM_ROUTER_SHUTDOWN_GRACE_MS: '1' } });
  }, { timeout: 180_000 });
  after(async () => {
    await router?.stop();
    await stage?.stop();
    await nats.stop();
  }, { timeout: 120_000 });

  test('a stream gets an error event and [DONE], a plain request a 503; the stage is left idle', async () => {
    const url = `http://${String(router.ready.http)}/v1/chat/completions`;
    const body = (stream: boolean) => JSON.stringify({ model: 'draining', stream, messages: [{ role: 'user', content: 'the sea' }] });
    const post = (stream: boolean) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(stream) });
    const streamed = await post(true);
    assert.equal(streamed.status, 200);
    let firstText!: () => void;
    const textArrived = new Promise<void>((resolve) => (firstText = resolve));
    const streamEvents = readEvents(streamed.body!, (data) => {
      if (data.includes('"stage_delta"')) firstText();
    });
    await textArrived;
    const plain = post(false);
    const metrics = String(stage.ready.metrics);
    await waitFor('the stage to work on both requests', async () => (await stageHolds(metrics)).active === 2, 60_000);

    const exit = await router.stop('SIGTERM', { graceMs: 60_000 });
    assert.deepEqual(exit, { code: 0, signal: null }, 'the router stopped by itself');

    const events = await streamEvents;
    assert.equal(events.at(-1), '[DONE]', 'the stream ends with [DONE]');
    const last = JSON.parse(events.at(-2)!) as { error?: { message: string; type: string }; fslm?: { event: string; code?: string } };
    assert.equal(last.fslm?.event, 'error', 'an error event before [DONE]');
    assert.equal(last.fslm?.code, 'UNAVAILABLE');
    assert.match(last.error!.message, /shutting down/);

    const answer = await plain;
    assert.equal(answer.status, 503, 'the plain request gets an answer: 503');
    const error = (await answer.json()) as { error: { message: string }; fslm: { code: string } };
    assert.equal(error.fslm.code, 'UNAVAILABLE');
    assert.match(error.error.message, /shutting down/);

    await waitFor('the stage to hold nothing', async () => busyParts(await stageHolds(metrics)).length === 0, 30_000);
  });
});

// Work a stage does through its NATS door, the streamed hand-off included, is admitted, held to the
// prompt and context limits and ended with its request; the stage's own metrics show nothing is left
// running. A real nats-server and a real `fslm stage` process on the tiny model (context 2048), driven
// over NATS as a router would.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { spawnNatsServer } from '../../services/cli/up-processes.ts';
import { subjects } from '../../services/shared/bus-codec.ts';
import { ErrorCode } from '../../services/shared/errors.ts';
import type { StageRun } from '../../services/shared/generated/fslm/v1/StageRun.ts';
import { testModels } from '../support/models.ts';
import { startFslm, type FslmProcess } from '../support/processes.ts';
import { busyParts, stageHolds, waitFor } from '../support/stage-probe.ts';
import { openRun } from './support/stage-bus.ts';

const PREFIX = subjects.prefix('limits', 'keywords');
const SENTINEL = '\u0000fslm-handoff\u0000';
/** A long user message (about 11,200 tokens) that once stalled a stack through the hand-off. */
const LONG_INPUT = 'The quick brown fox jumps over the lazy dog near the quiet river bank. '.repeat(800);
const HANDOFF_MAX_WAIT_MS = 1500;

let ids = 0;
function handoffRun(input: string, maxNewTokens = 8): StageRun {
  return {
    request: {
      messages: [{ role: 'user', content: `Request: ${input}\n\nWrite search keywords. What it asks for: ${SENTINEL}` }],
      params: { max_new_tokens: maxNewTokens, temperature: 0 }, request_id: `handoff-${ids++}`,
    },
    stack: 'limits', stage: 'keywords', attempt: 1, heartbeat_ms: 100, handoff_sentinel: SENTINEL,
  };
}
function plainRun(content: string, maxNewTokens = 4): StageRun {
  return {
    request: { messages: [{ role: 'user', content }], params: { max_new_tokens: maxNewTokens, temperature: 0 }, request_id: `plain-${ids++}` },
    stack: 'limits', stage: 'keywords', attempt: 1, heartbeat_ms: 100,
  };
}

describe('a stage\'s NATS door: admission, limits and ends of every piece of work', { timeout: 300_000 }, () => {
  const natsServer = spawnNatsServer();
  let stage: FslmProcess;
  let nc: NatsConnection;
  let metrics: string;
  const holds = () => stageHolds(metrics);
  const idle = async (what: string) => assert.deepEqual(busyParts(await holds()), [], `${what}: the stage holds nothing`);

  before(async () => {
    const url = String((await natsServer.ready).url);
    stage = await startFslm(['stage', '--model', testModels('tiny')['tiny-onnx'], '--grpc', '127.0.0.1:0', '--nats', url,
      '--stack', 'limits', '--stage', 'keywords', '--replica', 'k1', '--threads', '1', '--metrics', '127.0.0.1:0',
      '--max-batch', '2', '--max-queue', '1'], { env: { FSLM_STAGE_HANDOFF_MAX_WAIT_MS: String(HANDOFF_MAX_WAIT_MS) } });
    metrics = String(stage.ready.metrics);
    nc = await connect({ servers: url });
  });
  after(async () => {
    await nc?.close();
    await stage?.stop();
    await natsServer.stop();
  });

  test('a ~10k-token message through a hand-off is refused at once, with no prefill; the stage is idle and serves the next request', async () => {
    const before = await holds();
    const handoff = openRun(nc, PREFIX, handoffRun(LONG_INPUT));
    const { error } = await handoff.end();
    handoff.close();
    assert.equal(error?.code, ErrorCode.InvalidArgument);
    assert.match(error!.message, /the prompt has at least \d+ tokens so far; this stage accepts at most 2047/);
    const after = await holds();
    assert.deepEqual(busyParts(after), [], 'nothing is left running right after the refusal');
    assert.equal(after.prefillRuns, before.prefillRuns, 'not one chunk of it was prefilled');
    const plain = openRun(nc, PREFIX, plainRun(LONG_INPUT));
    assert.match((await plain.end()).error?.message ?? 'no error', /has \d+ tokens; this stage accepts at most 2047/, 'the plain path refuses it too');
    plain.close();
    const next = openRun(nc, PREFIX, plainRun('Name a colour.'));
    const { result } = await next.end();
    next.close();
    assert.equal(result?.usage?.completion_tokens, 4, 'the next request succeeds');
    await idle('after the next request');
  });

  test('text appended to a hand-off beyond the limits is refused before its start, and its prefill dropped', async () => {
    const handoff = openRun(nc, PREFIX, handoffRun('a short question'));
    await waitFor('the hand-off prefix to be prefilled', async () => (await holds()).kvRows === 1);
    const words = LONG_INPUT.split(' ');
    for (let seq = 0; seq < 4; seq++) await handoff.control({ append: { seq, text: `${words.slice(seq * 600, (seq + 1) * 600).join(' ')} ` } });
    const { error } = await handoff.end();
    handoff.close();
    assert.equal(error?.code, ErrorCode.InvalidArgument);
    assert.match(error!.message, /at least \d+ tokens so far; this stage accepts at most 2047/);
    await idle('after the refused append');
  });

  test('a hand-off whose prompt would leave no room for max_new_tokens in the context is refused, naming the numbers', async () => {
    const handoff = openRun(nc, PREFIX, handoffRun('The quick brown fox. '.repeat(150), 2000));
    const { error } = await handoff.end();
    handoff.close();
    assert.match(error?.message ?? 'no error', /\+ 2000 = \d+ exceeds the model's context of 2048 positions \(max_position_embeddings\)/);
    await idle('after the refusal');
  });

  test('a hand-off that never gets its start ends after the named max wait when its run has no deadline', async () => {
    const handoff = openRun(nc, PREFIX, handoffRun('a question that is never continued'));
    await handoff.next((e) => e.event === 'accepted', 'accepted');
    const waiting = await waitFor('the job to wait for its start', async () => {
      const h = await holds();
      return h.jobsAwaitingStart === 1 && h.handoffOpen === 1 && h.kvRows === 1 && h;
    });
    assert.equal(waiting.admitted, 1, 'the waiting hand-off counts against admission');
    const { error } = await handoff.end(HANDOFF_MAX_WAIT_MS + 30_000);
    handoff.close();
    assert.equal(error?.code, ErrorCode.DeadlineExceeded);
    assert.match(error!.message, new RegExp(`not started within ${HANDOFF_MAX_WAIT_MS} ms and the run carries no deadline`));
    await idle('after the max wait');
  });

  test('a hand-off that never gets its start ends at its deadline', async () => {
    const handoff = openRun(nc, PREFIX, handoffRun('a question with a deadline'), { deadlineMs: Date.now() + 800 });
    const { error } = await handoff.end();
    handoff.close();
    assert.equal(error?.code, ErrorCode.DeadlineExceeded);
    await idle('after the deadline');
  });

  test('a hand-off the router cancels (it refused the request) stops prefilling and frees its rows', async () => {
    const handoff = openRun(nc, PREFIX, handoffRun('a question'));
    await handoff.control({ append: { seq: 0, text: 'The quick brown fox jumps over the lazy dog. '.repeat(30) } });
    await waitFor('some of the appended text to be prefilled', async () => (await holds()).kvPositions > 100);
    handoff.cancel();
    const log = await stage.waitForEvent((e) => e.event === 'request' && e.request_id === handoff.requestId, 30_000);
    handoff.close();
    assert.equal(log.outcome, ErrorCode.Cancelled);
    await idle('after the cancel');
  });

  test('hand-off jobs waiting for their start count against admission: the next request is refused until one ends', async () => {
    const held = [0, 1, 2].map(() => openRun(nc, PREFIX, handoffRun('held')));
    await waitFor('three admitted hand-offs', async () => (await holds()).admitted === 3);
    const refused = openRun(nc, PREFIX, plainRun('One too many'));
    assert.equal((await refused.end()).error?.code, ErrorCode.ResourceExhausted);
    refused.close();
    held[0].cancel();
    await waitFor('a free place', async () => (await holds()).admitted === 2);
    const served = openRun(nc, PREFIX, plainRun('Fits now'));
    assert.equal((await served.end()).result?.usage?.completion_tokens, 4);
    served.close();
    for (const h of held) {
      h.cancel();
      h.close();
    }
    await waitFor('the stage to be idle', async () => busyParts(await holds()).length === 0);
  });

  test('a request whose reply inbox loses its subscriber stops within a heartbeat', async () => {
    const url = String((await natsServer.ready).url);
    const requester = await connect({ servers: url });
    const run = openRun(requester, PREFIX, plainRun('Write forever', 2000));
    await run.next((e) => e.event === 'delta', 'a delta');
    await requester.close();
    const log = await stage.waitForEvent((e) => e.event === 'request' && e.request_id === run.requestId, 30_000);
    assert.equal(log.outcome, ErrorCode.Cancelled);
    assert.ok(Number(log.completion_tokens) < 2000, `stopped after ${log.completion_tokens} tokens`);
    await idle('after the requester left');
  });

  test('prompt + max_new_tokens beyond the context is refused on the NATS door before any work', async () => {
    const before = await holds();
    const run = openRun(nc, PREFIX, plainRun('The quick brown fox. '.repeat(150), 2000));
    const { error } = await run.end();
    run.close();
    assert.equal(error?.code, ErrorCode.InvalidArgument);
    assert.match(error!.message, /\d+ \+ 2000 = \d+ exceeds the model's context of 2048/);
    assert.ok(!run.events.some((e) => e.event === 'delta'), 'no text');
    const after = await holds();
    assert.equal(after.prefillRuns, before.prefillRuns, 'no prefill ran for it');
    assert.deepEqual(busyParts(after), []);
  });
});

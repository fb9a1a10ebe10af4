// Cancel, deadline, backpressure, bad messages and killed replicas, against real processes on the
// tiny model: each test shows what the stage did (its request log), not only what the client saw.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import OpenAI from 'openai';
import { busCodec } from '../../services/shared/bus-codec.ts';
import { testModels } from '../support/models.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { grpcCode, run, runStream } from './support/grpc-calls.ts';
import { StackBuilder } from './support/stack-builder.ts';

const LONG = 1900;
const stack = new StackBuilder('long').stage({ name: 'work', template: 'Write a very long story about {input}.', params: { maxNewTokens: LONG, temperature: 0 } });
// Three replicas: two tests kill one each and still need another to retry on.
const REPLICAS = ['work-1', 'work-2', 'work-3'];
let cluster: Cluster;
let nc: NatsConnection;

describe('failures', { timeout: 900_000 }, () => {
  before(async () => {
    cluster = await startCluster({
      stack, modelDir: testModels('tiny')['tiny-onnx'], replicas: { work: REPLICAS.length }, routerArgs: ['--max-in-flight', '1'],
      routerEnv: { FSLM_ROUTER_HEARTBEAT_MS: '100', FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS: '1000', FSLM_ROUTER_MAX_ATTEMPTS: '8' },
    });
    nc = await connect({ servers: cluster.nats.url });
  }, { timeout: 300_000 });
  after(async () => {
    await nc?.close();
    await cluster?.stop();
  }, { timeout: 120_000 });

  /** The request log line a stage replica printed for one client request. */
  function stageLog(replica: string, requestId: string) {
    return cluster.replica(replica).waitForEvent((e) => e.event === 'request' && String(e.request_id).startsWith(`${requestId}.`), 30_000);
  }

  async function inFlight(replica: string): Promise<number> {
    const text = await (await fetch(`http://${cluster.replica(replica).ready.metrics}/metrics`)).text();
    const match = /fslm_stage_requests_in_flight\w*\{[^}]*\} (\d+)/.exec(text);
    assert.ok(match, `the replica's /metrics has no fslm_stage_requests_in_flight line:\n${text}`);
    return Number(match[1]);
  }

  test('a client cancel stops the stage replica working on the request', async () => {
    let replica = '';
    const { error } = await runStream(cluster.client, { input: 'rivers', request_id: 'cancel-me' }, (event, call) => {
      if (event.stage_started) replica = event.stage_started.replica;
      if (event.stage_delta) call.cancel();
    });
    assert.equal(grpcCode(error), 'CANCELLED');
    const log = await stageLog(replica, 'cancel-me');
    assert.equal(log.outcome, 'CANCELLED');
    assert.equal(log.finish_reason, 'cancelled');
    assert.ok(Number(log.completion_tokens) < LONG, `stopped after ${log.completion_tokens} of ${LONG} tokens`);
    assert.equal(await inFlight(replica), 0);
  });

  test('a gRPC deadline returns DEADLINE_EXCEEDED and the stage stops generating', async () => {
    await assert.rejects(run(cluster.client, { input: 'mountains', request_id: 'late-grpc' }, { deadline: new Date(Date.now() + 300) }), (e) => grpcCode(e) === 'DEADLINE_EXCEEDED');
    const logs = await Promise.race(REPLICAS.map((r) => stageLog(r, 'late-grpc')));
    assert.notEqual(logs.outcome, 'OK');
    assert.ok(Number(logs.completion_tokens) < LONG);
  });

  test('an HTTP deadline gives 504 and the stage stops generating', async () => {
    const response = await fetch(`http://${cluster.http}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-fslm-timeout-ms': '300' },
      body: JSON.stringify({ model: 'long', messages: [{ role: 'user', content: 'oceans' }], fslm: { request_id: 'late-http' } }),
    });
    assert.equal(response.status, 504);
    assert.equal((await response.json()).fslm.code, 'DEADLINE_EXCEEDED');
    const log = await Promise.race(REPLICAS.map((r) => stageLog(r, 'late-http')));
    assert.equal(log.outcome, 'DEADLINE_EXCEEDED');
    assert.ok(Number(log.completion_tokens) < LONG);
  });

  test('an HTTP client that disconnects mid-stream cancels the stage working on its request', async () => {
    const abort = new AbortController();
    const response = await fetch(`http://${cluster.http}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: abort.signal,
      body: JSON.stringify({ model: 'long', stream: true, messages: [{ role: 'user', content: 'islands' }], fslm: { request_id: 'hangs-up' } }),
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let seen = '';
    while (!seen.includes('stage_delta')) {
      const { done, value } = await reader.read();
      assert.equal(done, false, `the stream ended before any delta: ${seen}`);
      seen += new TextDecoder().decode(value);
    }
    const replica = /"replica":"([^"]+)"/.exec(seen)![1];
    abort.abort();
    const log = await stageLog(replica, 'hangs-up');
    assert.equal(log.outcome, 'CANCELLED');
    assert.ok(Number(log.completion_tokens) < LONG);
  });

  test('beyond the in-flight bound the router answers RESOURCE_EXHAUSTED and HTTP 429', async () => {
    let replica = '';
    let checked: Promise<void> | null = null;
    const first = runStream(cluster.client, { input: 'forests', request_id: 'holds-the-slot' }, (event, call) => {
      if (event.stage_started) replica = event.stage_started.replica;
      if (event.stage_delta && !checked) {
        checked = (async () => {
          await assert.rejects(run(cluster.client, { input: 'deserts' }), (e) => grpcCode(e) === 'RESOURCE_EXHAUSTED');
          const response = await fetch(`http://${cluster.http}/v1/chat/completions`, {
            method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'long', messages: [{ role: 'user', content: 'x' }] }),
          });
          assert.equal(response.status, 429);
        })().finally(() => call.cancel());
      }
    });
    await first;
    await checked;
    assert.equal((await stageLog(replica, 'holds-the-slot')).outcome, 'CANCELLED');
  });

  test('malformed and expired NATS messages get error replies and the stage keeps serving', async () => {
    const garbage = await nc.request('fslm.long.work.run', new Uint8Array([0xff, 0x01, 0x02, 0x03]), { timeout: 5000, noMux: true });
    assert.equal(garbage.headers?.get('Fslm-Error-Code'), 'INVALID_ARGUMENT');
    const h = natsHeaders();
    h.set('Fslm-Deadline', String(Date.now() - 1000));
    const expired = await nc.request('fslm.long.work.run', busCodec.encodeRun({ request: { prompt: 'hello', request_id: 'expired-1' }, attempt: 1 }), { timeout: 5000, noMux: true, headers: h });
    assert.equal(expired.headers?.get('Fslm-Error-Code'), 'DEADLINE_EXCEEDED');
    nc.publish('fslm.long.work.cancel', new Uint8Array([0xff, 0xff, 0xff]));
    const ok = await run(cluster.client, { input: 'lakes', params: { work: { max_new_tokens: 4 } } });
    assert.equal(ok.stages[0].usage?.completion_tokens, 4);
    for (const r of REPLICAS) assert.equal(cluster.replica(r).events.filter((e) => e.event === 'request' && e.request_id === 'expired-1').length, 0);
  });

  test('a replica whose heartbeats stop (SIGSTOP) is given up and the request completes on another', async () => {
    let frozen = '';
    const { events, error } = await runStream(cluster.client, { input: 'glaciers', request_id: 'outlives-a-freeze' }, (event) => {
      if (event.stage_started?.attempt === 1) {
        frozen = event.stage_started.replica;
        cluster.replica(frozen).child.kill('SIGSTOP');
      }
    });
    cluster.replica(frozen).child.kill('SIGCONT');
    assert.equal(error, null);
    const final = events.at(-1)?.final;
    assert.ok(final, 'the request completed');
    assert.ok(final.stages[0].attempts >= 2);
    assert.notEqual(final.stages[0].replica, frozen);
    // Once it runs again, the frozen replica reads the router's cancel and stops that request.
    const log = await stageLog(frozen, 'outlives-a-freeze');
    assert.equal(log.outcome, 'CANCELLED');
  });

  test('a replica killed mid-stream: an OpenAI streaming client receives the text once, never repeated or mixed', async () => {
    const openai = new OpenAI({ baseURL: `http://${cluster.http}/v1`, apiKey: 'not-needed', maxRetries: 0 });
    const body = { model: 'long', stream: true, max_tokens: 300, messages: [{ role: 'user', content: 'canyons' }], fslm: { request_id: 'stream-survives' } };
    const stream = await openai.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsStreaming);
    type Ext = { event: string; attempt?: number; replica?: string; stages?: Array<{ text: string; attempts: number; replica: string }> };
    let content = '';
    let killed = '';
    let final: Ext | null = null;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? '';
      const ext = (chunk as unknown as { fslm?: Ext }).fslm;
      if (ext?.event === 'stage_started' && ext.attempt === 1) killed = ext.replica!;
      // Kill the replica that generates the final text once the client holds some of it.
      if (ext?.event === 'stage_delta' && ext.attempt === 1 && content.length > 0 && cluster.replica(killed).child.signalCode === null) cluster.replica(killed).child.kill('SIGKILL');
      if (ext?.event === 'final') final = ext;
    }
    assert.ok(final?.stages, 'the stream completed');
    assert.equal(final.stages[0].attempts, 2);
    assert.notEqual(final.stages[0].replica, killed);
    assert.equal(content, final.stages[0].text, 'the client got the final text exactly once');
    assert.equal((await cluster.replica(killed).exited).signal, 'SIGKILL');
  });

  test('a replica killed mid-request: the request completes on the other replica', async () => {
    let killed = '';
    const { events, error } = await runStream(cluster.client, { input: 'valleys', request_id: 'survives' }, (event) => {
      if (event.stage_started?.attempt === 1) killed = event.stage_started.replica;
      // Kill the replica that is generating, at its first delta.
      if (event.stage_delta?.attempt === 1 && cluster.replica(killed).child.signalCode === null) cluster.replica(killed).child.kill('SIGKILL');
    });
    assert.equal(error, null);
    const final = events.at(-1)?.final;
    assert.ok(final, 'the request completed');
    assert.equal(final.stages[0].attempts, 2);
    assert.notEqual(final.stages[0].replica, killed);
    assert.ok(events.some((e) => e.stage_started?.attempt === 2), 'the stage was started again on another replica');
    // RunStream sends both attempts; the deltas of the attempt that succeeded make up the stage's text.
    const retried = events.filter((e) => e.stage_delta?.attempt === 2).map((e) => e.stage_delta!.delta!.text).join('');
    assert.equal(retried, final.stages[0].text);
    assert.equal((await cluster.replica(killed).exited).signal, 'SIGKILL', 'the killed replica is gone, so it generates nothing more');
  });
});

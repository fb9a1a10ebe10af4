// No replica listening on a stage's subjects: the router fails fast with UNAVAILABLE instead of waiting
// for heartbeats (set to a minute here) or the deadline. A stage nobody serves cannot describe its
// limits, so the request is refused before any stage runs; a stage whose replicas went away after
// describing themselves is met by NATS "no responders" when its turn comes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testModels } from '../support/models.ts';
import { startFslm, type FslmProcess } from '../support/processes.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { grpcCode, run, runStream } from './support/grpc-calls.ts';
import { StackBuilder } from './support/stack-builder.ts';

const stack = new StackBuilder('halfway')
  .stage({ name: 'present', template: 'Say something about {input}.', params: { maxNewTokens: 8 } })
  .stage({ name: 'ghost', template: 'Go on: {stages.present}', params: { maxNewTokens: 8 } });
let cluster: Cluster;
let ghost: FslmProcess | null = null;

describe('no responders', { timeout: 600_000 }, () => {
  before(async () => {
    cluster = await startCluster({
      stack, modelDir: testModels('tiny')['tiny-onnx'], replicas: { ghost: 0 },
      // Limits described once are kept for the whole file.
      routerEnv: { FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS: '60000', FSLM_ROUTER_DESCRIBE_TTL_MS: '600000' },
    });
  }, { timeout: 300_000 });
  after(async () => {
    await ghost?.stop();
    await cluster?.stop();
  }, { timeout: 120_000 });

  test('a stage nobody serves gives UNAVAILABLE before any stage runs (Run)', async () => {
    await assert.rejects(run(cluster.client, { input: 'cats', request_id: 'no-ghost-1' }, { deadline: new Date(Date.now() + 30_000) }),
      (e: Error & { details?: string }) => grpcCode(e) === 'UNAVAILABLE' && /ghost/.test(e.details ?? ''));
  });

  test('RunStream names the stage that has no replica, and no stage ran', async () => {
    const { events, error } = await runStream(cluster.client, { input: 'dogs', request_id: 'no-ghost-2' }, undefined, { deadline: new Date(Date.now() + 30_000) });
    assert.equal(grpcCode(error), 'UNAVAILABLE');
    assert.deepEqual(events.map((e) => e.event), ['error'], 'no stage started');
    assert.equal(events[0].error?.stage, 'ghost');
  });

  test('the OpenAI endpoint answers 503 for a stage nobody serves, naming it', async () => {
    const response = await fetch(`http://${cluster.http}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'halfway', messages: [{ role: 'user', content: 'birds' }], fslm: { request_id: 'no-ghost-3' } }),
    });
    assert.equal(response.status, 503);
    const body = await response.json();
    assert.deepEqual(body.fslm, { code: 'UNAVAILABLE', stage: 'ghost' });
  });

  test('a stage whose replica went away after describing itself: the stages before it run, then UNAVAILABLE at once', async () => {
    ghost = await startFslm(['stage', '--model', testModels('tiny')['tiny-onnx'], '--grpc', '127.0.0.1:0', '--nats', cluster.nats.url,
      '--stack', 'halfway', '--stage', 'ghost', '--threads', '1', '--replica', 'ghost-1']);
    const served = await run(cluster.client, { input: 'cats', request_id: 'served' }, { deadline: new Date(Date.now() + 60_000) });
    assert.equal(served.stages[1].stage, 'ghost');
    // The stage that was served all along saw none of the refused requests, only this later one.
    const present = cluster.stages.get('present')![0];
    await present.waitForEvent((e) => e.event === 'request' && String(e.request_id).startsWith('served.'), 30_000);
    assert.deepEqual(present.events.filter((e) => String(e.request_id ?? '').startsWith('no-ghost')), []);
    await ghost.stop();
    ghost = null;
    const { events, error } = await runStream(cluster.client, { input: 'dogs' }, undefined, { deadline: new Date(Date.now() + 60_000) });
    assert.equal(grpcCode(error), 'UNAVAILABLE');
    assert.ok(events.some((e) => e.stage_finished?.output?.stage === 'present'));
    const failure = events.at(-1)?.error;
    assert.equal(failure?.code, 'UNAVAILABLE');
    assert.equal(failure?.stage, 'ghost');
  });
});

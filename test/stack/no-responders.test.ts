// No replica listening on a stage's subject: NATS answers "no responders" and the router fails fast
// with UNAVAILABLE instead of waiting for heartbeats (set to a minute here) or the deadline.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testModels } from '../support/models.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { grpcCode, run, runStream } from './support/grpc-calls.ts';
import { StackBuilder } from './support/stack-builder.ts';

const stack = new StackBuilder('halfway')
  .stage({ name: 'present', template: 'Say something about {input}.', params: { maxNewTokens: 8 } })
  .stage({ name: 'ghost', template: 'Go on: {stages.present}', params: { maxNewTokens: 8 } });
let cluster: Cluster;

before(async () => {
  cluster = await startCluster({
    stack, modelDir: testModels('tiny')['tiny-onnx'], replicas: { ghost: 0 },
    routerEnv: { FSLM_ROUTER_HEARTBEAT_TIMEOUT_MS: '60000' },
  });
});
after(() => cluster?.stop());

test('a stage nobody serves gives UNAVAILABLE, not a timeout (Run)', async () => {
  await assert.rejects(run(cluster.client, { input: 'cats' }, { deadline: new Date(Date.now() + 30_000) }), (e) => grpcCode(e) === 'UNAVAILABLE');
});

test('RunStream reports which stage had no replica, after the stages before it finished', async () => {
  const { events, error } = await runStream(cluster.client, { input: 'dogs' }, undefined, { deadline: new Date(Date.now() + 30_000) });
  assert.equal(grpcCode(error), 'UNAVAILABLE');
  assert.ok(events.some((e) => e.stage_finished?.output?.stage === 'present'));
  const failure = events.at(-1)?.error;
  assert.equal(failure?.code, 'UNAVAILABLE');
  assert.equal(failure?.stage, 'ghost');
});

test('the OpenAI endpoint answers 503 for a stage nobody serves', async () => {
  const response = await fetch(`http://${cluster.http}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'halfway', messages: [{ role: 'user', content: 'birds' }] }),
  });
  assert.equal(response.status, 503);
  assert.equal((await response.json()).error.code, 'UNAVAILABLE');
});

// The client's deadline is the promise (real stack, tiny model): the stages' budgets shape only the
// deadline of a request that sets none, so a stack whose first stage has a budget of 1 ms still
// completes within a deadline that fits the whole request; a deadline inside the router's margin is
// refused before any stage opens.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testModels } from '../support/models.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { grpcCode, run } from './support/grpc-calls.ts';
import { StackBuilder } from './support/stack-builder.ts';

// Split by budget, the first stage would get 1/600001 of any deadline: a fraction of a millisecond.
const stack = new StackBuilder('skewed')
  .stage({ name: 'quick', template: 'Say something about {input}.', params: { maxNewTokens: 12, temperature: 0 }, budgetMs: 1 })
  .stage({ name: 'slow', template: 'Go on: {stages.quick}', params: { maxNewTokens: 12, temperature: 0 }, budgetMs: 600_000 });
let cluster: Cluster;

describe('deadlines', { timeout: 600_000 }, () => {
  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'] });
  }, { timeout: 300_000 });
  after(() => cluster?.stop(), { timeout: 120_000 });

  test('a gRPC deadline that fits the request: every stage may use the time it needs, and the request completes', async () => {
    const response = await run(cluster.client, { input: 'rivers', request_id: 'fits-grpc' }, { deadline: new Date(Date.now() + 120_000) });
    assert.deepEqual(response.stages.map((s) => s.stage), ['quick', 'slow']);
    assert.ok(response.stages.every((s) => (s.usage?.completion_tokens ?? 0) > 0));
  });

  test('an HTTP deadline that fits the request completes too, and so does a request without one', async () => {
    const response = await fetch(`http://${cluster.http}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-fslm-timeout-ms': '120000' },
      body: JSON.stringify({ model: 'skewed', messages: [{ role: 'user', content: 'mountains' }] }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal((await response.json()).fslm.stages.length, 2);
    assert.equal((await run(cluster.client, { input: 'lakes' })).stages.length, 2);
  });

  test('a deadline inside the router\'s margin is DEADLINE_EXCEEDED before any stage opens', async () => {
    const response = await fetch(`http://${cluster.http}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-fslm-timeout-ms': '50' },
      body: JSON.stringify({ model: 'skewed', messages: [{ role: 'user', content: 'deserts' }], fslm: { request_id: 'too-late' } }),
    });
    assert.equal(response.status, 504);
    assert.equal((await response.json()).fslm.code, 'DEADLINE_EXCEEDED');
    const bad = await fetch(`http://${cluster.http}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-fslm-timeout-ms': 'soon' },
      body: JSON.stringify({ model: 'skewed', messages: [{ role: 'user', content: 'deserts' }] }),
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.param, 'x-fslm-timeout-ms');
    // A request sent after it reaches the stages after it would have; they logged only that one.
    await run(cluster.client, { input: 'forests', request_id: 'control', disable_handoff: true });
    for (const [name, [replica]] of cluster.stages) {
      await replica.waitForEvent((e) => e.event === 'request' && String(e.request_id).startsWith('control.'), 30_000);
      assert.deepEqual(replica.events.filter((e) => String(e.request_id ?? '').startsWith('too-late')), [], `stage ${name}`);
    }
    await assert.rejects(run(cluster.client, { input: 'seas' }, { deadline: new Date(Date.now() + 50) }), (e) => grpcCode(e) === 'DEADLINE_EXCEEDED');
  });
});

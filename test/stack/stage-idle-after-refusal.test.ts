// A long input through the whole stack: a ~10k-token user message, with the streamed hand-off on,
// is refused, every stage holds nothing right after (its own metrics say so), and the next request is
// answered. Real nats-server, router and four `fslm stage` processes on the tiny model.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testModels } from '../support/models.ts';
import { busyParts, stageHolds } from '../support/stage-probe.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { StackBuilder } from './support/stack-builder.ts';

const LONG_INPUT = 'The quick brown fox jumps over the lazy dog near the quiet river bank. '.repeat(800);

describe('a refused long request leaves every stage idle', { timeout: 300_000 }, () => {
  const stack = StackBuilder.fourRoles('idle4', 8);
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'] });
  });
  after(() => cluster?.stop());

  const ask = (content: string) => fetch(`http://${cluster.http}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'idle4', max_tokens: 8, messages: [{ role: 'user', content }] }),
  });

  test('a ~10k-token message gets 400, the stages are idle right after, and the next request is answered', async () => {
    const refused = await ask(LONG_INPUT);
    assert.equal(refused.status, 400, await refused.clone().text());
    assert.match(JSON.stringify(await refused.json()), /tokens/);
    for (const [name, replicas] of cluster.stages) {
      const holds = await stageHolds(String(replicas[0].ready.metrics));
      assert.deepEqual(busyParts(holds), [], `stage ${name} holds nothing right after the refusal`);
    }
    const answered = await ask('Name a colour.');
    assert.equal(answered.status, 200, await answered.clone().text());
    const body = await answered.json();
    assert.equal(typeof body.choices[0].message.content, 'string');
  });
});

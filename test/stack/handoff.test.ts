// The streamed hand-off: stage k+1 prefills while stage k streams. Greedy output must be identical
// with and without it, and the stages must really have taken the incremental path.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testModels } from '../support/models.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { run } from './support/grpc-calls.ts';
import { StackBuilder } from './support/stack-builder.ts';

const INPUTS = [
  'Why is the sky blue?',
  'List 3 numbers: 10, 200 and 3,000.   Then   explain  them.',
  'Écris une phrase — avec des accents, des émojis 🙂 et des "guillemets".',
];

async function compare(cluster: Cluster, stages: string[], input: string, index: number): Promise<void> {
  const streamed = await run(cluster.client, { input, request_id: `streamed-${index}` });
  const plain = await run(cluster.client, { input, request_id: `plain-${index}`, disable_handoff: true });
  assert.deepEqual(streamed.stages.map((s) => s.text), plain.stages.map((s) => s.text), `identical stage texts for ${JSON.stringify(input)}`);
  assert.deepEqual(streamed.stages.map((s) => s.streamed_handoff), stages.map((_, i) => i > 0));
  assert.ok(plain.stages.every((s) => !s.streamed_handoff));
  for (const name of stages.slice(1)) {
    const log = await cluster.stages.get(name)![0].waitForEvent((e) => e.event === 'request' && e.request_id === `streamed-${index}.${name}.handoff`);
    assert.equal(log.handoff, 'incremental', `${name} prefilled the streamed text (not the fallback)`);
  }
}

describe('tiny 4-stage stack', { timeout: 600_000 }, () => {
  const stack = StackBuilder.fourRoles('handoff4', 40);
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'] });
  }, { timeout: 300_000 });
  after(() => cluster?.stop(), { timeout: 120_000 });

  INPUTS.forEach((input, i) => {
    test(`streamed and plain hand-off give identical greedy text (tiny, input ${i + 1})`, () => compare(cluster, stack.stageNames, input, i));
  });
});

// int8 stages as the default stack serves them (GroupQueryAttention: a lone prompt token on top of a
// cache would take its token-generation kernel, so a prompt prefilled ahead word by word must be cut
// like a plain one), a template that ends in the previous text (the most of it prefilled ahead), the
// repetition penalty (its seen ids come from the prompt), then an fp32 stage (the concatenated cache).
describe('SmolLM2-135M 3-stage stack (int8 and fp32)', { timeout: 900_000 }, () => {
  const penalised = { maxNewTokens: 48, temperature: 0, repetitionPenalty: 1.1 };
  const stack = new StackBuilder('handoff3', 'smollm2-135m-onnx')
    .stage({ name: 'understand', precision: 'int8', system: 'You restate requests. Be brief and precise.',
      template: 'Restate in one sentence what this request asks for.\n\nRequest: {input}', params: penalised })
    .stage({ name: 'keywords', precision: 'int8', system: 'You write search keywords.',
      template: 'Request: {input}\n\nWrite five search keywords for this request, separated by commas. What it asks for: {stages.understand}',
      params: { ...penalised, maxNewTokens: 24 } })
    .stage({ name: 'answer', precision: 'fp32', template: 'Question: {input}\nAnswer briefly, using these keywords: {stages.keywords}', params: { maxNewTokens: 16, temperature: 0 } });
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels()['smollm2-135m-onnx'] });
  }, { timeout: 600_000 });
  after(() => cluster?.stop(), { timeout: 120_000 });

  test('streamed and plain hand-off give identical greedy text (SmolLM2-135M, a question)', () => compare(cluster, stack.stageNames, INPUTS[0], 10));
  test('streamed and plain hand-off give identical greedy text (SmolLM2-135M, real words and digits)', () => compare(cluster, stack.stageNames, INPUTS[1], 11));
});

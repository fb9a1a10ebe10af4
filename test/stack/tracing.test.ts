// Spans of a request reach a real OTLP receiver (an OpenTelemetry Collector process): a root span in
// the router, a child per stage on the router's side and one per stage on the stage's side of NATS,
// with the GenAI semantic-convention attributes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testModels } from '../support/models.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { run } from './support/grpc-calls.ts';
import { startCollector, type Collector, type ReceivedSpan } from './support/otel-collector.ts';
import { StackBuilder } from './support/stack-builder.ts';

const SERVER = 2;
const CLIENT = 3;
const stack = StackBuilder.fourRoles('traced4', 12);
let collector: Collector;
let cluster: Cluster;

describe('tracing', { timeout: 600_000 }, () => {
  before(async () => {
    collector = await startCollector();
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' };
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'], routerEnv: env, stageEnv: env });
  }, { timeout: 300_000 });
  after(async () => {
    await cluster?.stop();
    await collector?.stop();
  }, { timeout: 120_000 });

  test('a request leaves a root span, a router span per stage and a stage span per stage, linked across NATS', async () => {
    const response = await run(cluster.client, { input: 'Why do leaves fall?', request_id: 'traced-1' });
    const traceId = response.trace_id;
    const spans = await collector.waitFor((all) => all.filter((s) => s.traceId === traceId).length >= 9);
    const mine = spans.filter((s) => s.traceId === traceId);
    const root = mine.find((s) => s.parentSpanId === '' || !mine.some((p) => p.spanId === s.parentSpanId));
    assert.ok(root);
    assert.equal(root.service, 'fslm-router');
    assert.equal(root.name, 'chat traced4');
    assert.equal(root.kind, SERVER);
    assert.equal(root.attributes['gen_ai.operation.name'], 'chat');
    assert.equal(root.attributes['fslm.request_id'], 'traced-1');
    const sumOut = response.stages.reduce((n, s) => n + (s.usage?.completion_tokens ?? 0), 0);
    assert.equal(root.attributes['gen_ai.usage.output_tokens'], sumOut);

    for (const [i, name] of stack.stageNames.entries()) {
      const output = response.stages[i];
      const routerSide = mine.find((s) => s.service === 'fslm-router' && s.attributes['fslm.stage.name'] === name);
      assert.ok(routerSide, `router span for ${name}`);
      assert.equal(routerSide.parentSpanId, root.spanId);
      assert.equal(routerSide.kind, CLIENT);
      // The replica's span of the attempt that produced the text (a hand-off given up would be a cancelled sibling).
      const stageSide: ReceivedSpan | undefined = mine.find((s) => s.service === 'fslm-stage' && s.attributes['fslm.stage.name'] === name && !s.attributes['fslm.error.code']);
      assert.ok(stageSide, `stage span for ${name}`);
      assert.equal(stageSide.parentSpanId, routerSide.spanId, `${name}: the stage span continues the router's stage span (context in NATS headers)`);
      assert.equal(stageSide.kind, SERVER);
      for (const span of [routerSide, stageSide]) {
        assert.equal(span.attributes['gen_ai.operation.name'], 'chat');
        assert.equal(span.attributes['gen_ai.request.model'], span === routerSide ? 'tiny-onnx' : 'tiny');
        assert.equal(span.attributes['gen_ai.usage.input_tokens'], output.usage?.prompt_tokens, `${span.service} ${span.name} ${JSON.stringify(span.attributes)}`);
        assert.equal(span.attributes['gen_ai.usage.output_tokens'], output.usage?.completion_tokens);
        assert.equal(span.attributes['fslm.stage.model_version'], output.model_version);
        assert.equal(typeof span.attributes['fslm.stage.time_to_first_token_ms'], 'number');
      }
    }
  });
});

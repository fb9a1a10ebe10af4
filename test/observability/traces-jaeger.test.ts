// A request's per-stage span tree, read back from a real Jaeger (built from the Go module proxy) through its
// query API: the router and the four stages export OTLP to a real OpenTelemetry Collector running the committed
// deploy/otelcol/config.yaml, which forwards to Jaeger running the committed deploy/jaeger/jaeger.yaml.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testModels } from '../support/models.ts';
import { startJaeger, type Jaeger, type JaegerSpan } from '../support/jaeger.ts';
import { startDeployedCollector, type DeployedCollector } from '../support/otelcol.ts';
import { startCluster, type Cluster } from '../stack/support/cluster.ts';
import { run } from '../stack/support/grpc-calls.ts';
import { StackBuilder } from '../stack/support/stack-builder.ts';

const stack = StackBuilder.fourRoles('jaeger4', 12);

/** Polls Jaeger until the trace holds `count` spans or more, within `timeoutMs`. */
async function traceWith(jaeger: Jaeger, traceId: string, count: number, timeoutMs = 60_000): Promise<JaegerSpan[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const spans = await jaeger.trace(traceId);
    if (spans.length >= count) return spans;
    if (Date.now() > end) throw new Error(`Jaeger holds ${spans.length} span(s) of trace ${traceId} after ${timeoutMs} ms: ${spans.map((s) => `${s.service}:${s.operationName}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('traces in a real Jaeger through the committed collector configuration', { timeout: 25 * 60_000 }, () => {
  let jaeger: Jaeger;
  let collector: DeployedCollector;
  let cluster: Cluster;
  before(async () => {
    jaeger = await startJaeger();
    collector = await startDeployedCollector(jaeger.otlpHttp);
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp, OTEL_BSP_SCHEDULE_DELAY: '100' };
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'], routerEnv: env, stageEnv: env });
  });
  after(async () => {
    await cluster?.stop();
    await collector?.stop();
    await jaeger?.stop();
  });

  test('one request: a router root span, a router span per stage under it, and each stage\'s own span under that', async () => {
    const response = await run(cluster.client, { input: 'Why do leaves fall?', request_id: 'jaeger-1' });
    const spans = await traceWith(jaeger, response.trace_id, 1 + 2 * stack.stageNames.length);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const roots = spans.filter((s) => !s.parentSpanId || !byId.has(s.parentSpanId));
    assert.equal(roots.length, 1, `one root: ${roots.map((s) => s.operationName)}`);
    const root = roots[0];
    assert.equal(root.service, 'fslm-router');
    assert.equal(root.operationName, 'chat jaeger4');
    assert.equal(root.tags['fslm.request_id'], 'jaeger-1');
    const routerStages = spans.filter((s) => s.service === 'fslm-router' && s.parentSpanId === root.spanId);
    // One per stage (a stage fed by the streamed hand-off opens its span while the stage before it runs).
    assert.deepEqual(routerStages.map((s) => String(s.tags['fslm.stage.name'])).sort(), [...stack.stageNames].sort());
    for (const [i, name] of stack.stageNames.entries()) {
      const routerSide = routerStages.find((s) => s.tags['fslm.stage.name'] === name)!;
      const stageSide = spans.filter((s) => s.service === 'fslm-stage' && s.parentSpanId === routerSide.spanId && !s.tags['fslm.error.code']);
      assert.equal(stageSide.length, 1, `${name}: one stage span under the router's span for it`);
      assert.equal(stageSide[0].tags['fslm.stage.name'], name);
      assert.equal(stageSide[0].tags['gen_ai.usage.output_tokens'], response.stages[i].usage?.completion_tokens);
    }
  });
});

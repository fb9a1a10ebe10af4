import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { PresetIdGenerator } from '../src/telemetry.ts';
import { TracerSpanSink } from '../src/span-sink.ts';
import { runTraceIds, stageSpanId } from '../src/trace-context.ts';
import { at } from './support/builders.ts';

test('stage and run spans carry the derived ids and the recorded start and end', { timeout: 30_000 }, async () => {
  const exporter = new InMemorySpanExporter();
  const ids = new PresetIdGenerator();
  const provider = new BasicTracerProvider({ idGenerator: ids, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const sink = new TracerSpanSink(provider.getTracer('t'), ids);
  const { traceId, rootSpanId } = runTraceIds('uid-1');
  sink.export([
    { stage: 'a', traceId, spanId: stageSpanId('uid-1', 'a'), parentSpanId: rootSpanId, start: at(10), end: at(40), ok: true, attributes: { 'fslm.stage': 'a' } },
    { traceId, spanId: rootSpanId, start: at(0), end: at(50), ok: false, attributes: {} },
  ]);
  const [stage, root] = exporter.getFinishedSpans();
  assert.equal(stage.name, 'stage a');
  assert.equal(stage.spanContext().traceId, traceId);
  assert.equal(stage.spanContext().spanId, stageSpanId('uid-1', 'a'));
  assert.equal(stage.parentSpanContext?.spanId, rootSpanId);
  assert.deepEqual(stage.startTime, [Math.floor(at(10).getTime() / 1000), 0]);
  assert.deepEqual(stage.endTime, [Math.floor(at(40).getTime() / 1000), 0]);
  assert.equal(root.spanContext().traceId, traceId);
  assert.equal(root.spanContext().spanId, rootSpanId);
  assert.equal(root.parentSpanContext, undefined);
  assert.equal(root.status.code, 2);
  // Ids not preset are random again.
  const other = provider.getTracer('t').startSpan('x');
  assert.notEqual(other.spanContext().traceId, traceId);
  await provider.shutdown();
});

test('trace ids are stable per run and differ between runs and stages', { timeout: 30_000 }, () => {
  assert.deepEqual(runTraceIds('u'), runTraceIds('u'));
  assert.notEqual(runTraceIds('u').traceId, runTraceIds('v').traceId);
  assert.notEqual(stageSpanId('u', 'a'), stageSpanId('u', 'b'));
});

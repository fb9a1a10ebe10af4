// The stack runner against InMemoryTestBus (pure logic): every refusal happens before any stage is
// opened, the hand-off opens the next stage only once the stage before it streams, and metric labels
// never take a name a client made up.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { ErrorCode, errors } from '../../shared/errors.ts';
import { Admission } from '../src/admission.ts';
import { RequestError } from '../src/request-errors.ts';
import { RouterMetrics, UNKNOWN_STACK } from '../src/router-metrics.ts';
import { GRPC_FIELDS, toStackRunRequest, type RunAsk } from '../src/run-request.ts';
import { parseStack } from '../src/stack-loader.ts';
import { failedStageOf, StackRunner } from '../src/stack-runner.ts';
import { StageLimitsCache } from '../src/stage-limits.ts';
import type { StageParams } from '../src/types.ts';
import { InMemoryTestBus, testLimits } from './support/in-memory-test-bus.ts';

const stack = parseStack(`apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: { name: demo }
spec:
  stages:
    - { name: first, model: m, template: "Say: {input}", params: { maxNewTokens: 8 } }
    - { name: second, model: m, template: "Go on: {stages.first}", params: { maxNewTokens: 8 } }
`);
const PREFIXES = ['fslm.demo.first', 'fslm.demo.second'];

/** Collects what the router's metrics recorded (a real OpenTelemetry MeterProvider). */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}

  /** Values of label `key` on the series that recorded something (counters start every code at 0). */
  async labels(key: string): Promise<Set<string>> {
    const { resourceMetrics } = await this.collect();
    const values = new Set<string>();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        for (const point of metric.dataPoints) {
          if (typeof point.value === 'number' && point.value === 0) continue;
          if (key in point.attributes) values.add(String(point.attributes[key]));
        }
      }
    }
    return values;
  }
}

function setup(options: { maxInFlight?: number; bus?: InMemoryTestBus } = {}) {
  const bus = options.bus ?? new InMemoryTestBus().describeAll(PREFIXES);
  const reader = new CollectingReader();
  const metrics = new RouterMetrics(new MeterProvider({ readers: [reader] }).getMeter('test'));
  const admission = new Admission(options.maxInFlight ?? 4);
  const runner = new StackRunner({
    bus, stacks: new Map([[stack.name, stack]]), admission, tracer: trace.getTracer('test'), metrics,
    config: { heartbeatMs: 250, heartbeatTimeoutMs: 60_000, maxAttempts: 2, handoffMaxInFlight: 4 },
  });
  return { bus, runner, reader, admission };
}

const ask = (input: string, params?: Record<string, StageParams>): RunAsk => ({ input, params, fields: GRPC_FIELDS, deadlineMs: Infinity, signal: new AbortController().signal });

describe('stack runner', { timeout: 30_000 }, () => {
  test('unknown stacks, invalid requests and a full router are refused and counted, never labelled with a made-up name', async () => {
    const { runner, reader, admission } = setup({ maxInFlight: 1 });
    assert.throws(() => runner.prepare('made-up-by-a-client', (s) => toStackRunRequest(s, ask('hi'), true)), (e) => e instanceof RequestError && e.code === ErrorCode.NotFound && e.openaiCode === 'model_not_found');
    assert.throws(() => runner.prepare('demo', (s) => toStackRunRequest(s, ask(' '), true)), { code: ErrorCode.InvalidArgument });
    assert.throws(() => runner.refused('also-made-up', errors.invalidArgument('bad')), { code: ErrorCode.InvalidArgument });
    const { stack: resolved, request } = runner.prepare('', (s) => toStackRunRequest(s, ask('hi'), true));
    assert.equal(resolved, stack);
    const release = admission.acquire();
    await assert.rejects(runner.run(resolved, request), { code: ErrorCode.ResourceExhausted });
    release();
    assert.deepEqual([...await reader.labels('fslm.stack')].sort(), [UNKNOWN_STACK, 'demo'].sort());
    assert.deepEqual([...await reader.labels('code')].sort(), [ErrorCode.InvalidArgument, ErrorCode.NotFound, ErrorCode.ResourceExhausted].sort());
  });

  test('a request over a stage\'s described limits is refused naming the field and the limit, and no stage is opened', async () => {
    const { runner, bus } = setup({ bus: new InMemoryTestBus().describeAll(PREFIXES, testLimits({ max_new_tokens_limit: 100, max_prompt_tokens: 50 })) });
    const tooMany = runner.prepare('demo', (s) => toStackRunRequest(s, ask('hi', { second: { max_new_tokens: 101 } }), true));
    await assert.rejects(runner.run(tooMany.stack, tooMany.request), (e) => e instanceof RequestError && e.field === 'params.second.max_new_tokens' && /at most 100/.test(e.message));
    const long = runner.prepare('demo', (s) => toStackRunRequest(s, ask('word '.repeat(60)), true));
    await assert.rejects(runner.run(long.stack, long.request), (e) => e instanceof RequestError && e.openaiCode === 'context_length_exceeded' && e.field === 'input' && /at most 50/.test(e.message));
    assert.equal(bus.opened.length, 0);
  });

  test('a stage that cannot be described makes the request UNAVAILABLE at once, naming it, before any stage runs', async () => {
    const bus = new InMemoryTestBus();
    bus.describes.set('fslm.demo.first', testLimits());
    const { runner } = setup({ bus });
    const { stack: s, request } = runner.prepare('demo', (st) => toStackRunRequest(st, ask('hi'), true));
    const error = await runner.run(s, request).then(() => null, (e: unknown) => e);
    assert.equal((error as { code?: string }).code, ErrorCode.Unavailable);
    assert.equal(failedStageOf(error), 'second');
    assert.equal(bus.opened.length, 0);
  });

  test('the stages\' limits are asked once and kept for the TTL, then asked again', async () => {
    let now = 1_000_000;
    const bus = new InMemoryTestBus().describeAll(PREFIXES);
    const cache = new StageLimitsCache(bus, { ttlMs: 1000, timeoutMs: 100, now: () => now });
    const address = { stack: 'demo', stage: 'first', subjectPrefix: 'fslm.demo.first' };
    await Promise.all([cache.limitsOf(address), cache.limitsOf(address)]);
    assert.equal(bus.describeCalls, 1, 'concurrent requests share one question');
    now += 999;
    await cache.limitsOf(address);
    assert.equal(bus.describeCalls, 1);
    now += 2;
    assert.equal((await cache.limitsOf(address)).maxNewTokensLimit, 256);
    assert.equal(bus.describeCalls, 2);
    bus.describes.delete('fslm.demo.first');
    now += 1001;
    await assert.rejects(cache.limitsOf(address), { code: ErrorCode.Unavailable });
  });

  test('the hand-off opens the next stage once the stage before it streams text, and a failure cancels what was opened', async () => {
    const { runner, bus } = setup();
    const { stack: s, request } = runner.prepare('demo', (st) => toStackRunRequest(st, ask('hi'), true));
    const running = runner.run(s, request);
    const first = await bus.opening(0);
    first.accept();
    assert.equal(bus.opened.length, 1, 'accepted is not enough: the replica may still refuse its prompt');
    first.delta('Hello');
    const feed = await bus.opening(1);
    assert.ok(feed.run.handoff_sentinel, 'the second stage is opened as a hand-off');
    first.fail(errors.invalidArgument('the prompt is too long', 'prompt'));
    await assert.rejects(running, { code: ErrorCode.InvalidArgument });
    assert.equal(feed.cancelled, 'cancelled', 'the hand-off replica is told to drop the request at once');
  });

  test('a hand-off replica that fails leaves the stage to a plain retry that carries the whole prompt', async () => {
    const { runner, bus } = setup();
    const { stack: s, request } = runner.prepare('demo', (st) => toStackRunRequest(st, ask('hi'), true));
    const running = runner.run(s, request);
    const first = await bus.opening(0);
    first.accept();
    first.delta('Hello');
    const feed = await bus.opening(1);
    assert.ok(feed.run.handoff_sentinel);
    feed.accept('r2');
    first.result('Hello');
    await new Promise((resolve) => setImmediate(resolve));
    feed.fail(errors.resourceExhausted('the replica is full'));
    const retry = await bus.opening(2);
    assert.ok(!retry.run.handoff_sentinel, 'the retry is a plain request');
    assert.match(JSON.stringify(retry.run.request), /Go on: Hello/, 'and it carries the prompt, the previous stage\'s text included');
    retry.accept('r3');
    retry.result('two');
    assert.equal((await running).text, 'two');
  });

  test('a request runs through both stages; an explicit zero overrides the stack, an unset field keeps it', async () => {
    const { runner, bus } = setup();
    const { stack: s, request } = runner.prepare('demo', (st) => toStackRunRequest(st, { ...ask('hi', { second: { temperature: 0, max_new_tokens: 3 } }), disableHandoff: true }, true));
    const running = runner.run(s, request);
    const first = await bus.opening(0);
    assert.equal(first.run.request?.params?.max_new_tokens, 8);
    assert.equal(first.run.request?.params?.temperature, undefined);
    first.accept();
    first.result('one');
    const second = await bus.opening(1);
    assert.equal(second.run.request?.params?.temperature, 0);
    assert.equal(second.run.request?.params?.max_new_tokens, 3);
    second.accept();
    second.result('two');
    const outcome = await running;
    assert.equal(outcome.text, 'two');
    assert.deepEqual(outcome.stages.map((st) => st.text), ['one', 'two']);
  });
});

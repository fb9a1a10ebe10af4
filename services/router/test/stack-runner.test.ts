import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { Admission } from '../src/admission.ts';
import type { RouterMetrics } from '../src/router-metrics.ts';
import { toStackRunRequest } from '../src/run-request.ts';
import { StackRunner } from '../src/stack-runner.ts';
import { parseStack } from '../src/stack-loader.ts';
import type { MessageBus } from '../src/types.ts';

const stack = parseStack(`apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: { name: demo }
spec:
  stages:
    - { name: only, model: m, template: "{input}" }
`);

function runner(maxInFlight = 1) {
  const rejected: Array<[string, string]> = [];
  const metrics = { rejected: (name: string, code: string) => rejected.push([name, code]) } as unknown as RouterMetrics;
  const bus = {} as MessageBus;
  const admission = new Admission(maxInFlight);
  return {
    rejected, admission,
    runner: new StackRunner({ bus, stacks: new Map([[stack.name, stack]]), admission, tracer: trace.getTracer('test'), metrics, config: { heartbeatMs: 250, heartbeatTimeoutMs: 1000, maxAttempts: 1, handoffMaxInFlight: 1 } }),
  };
}

const ask = (input: string) => ({ input, deadlineMs: Infinity, signal: new AbortController().signal });

test('unknown stacks, invalid requests and a full router are each counted as one rejection', async () => {
  const { runner: r, rejected, admission } = runner();
  assert.throws(() => r.prepare('nope', (s) => toStackRunRequest(s, ask('hi'), true)), { code: 'NOT_FOUND' });
  assert.throws(() => r.prepare('demo', (s) => toStackRunRequest(s, ask(' '), true)), { code: 'INVALID_ARGUMENT' });
  const { stack: resolved, request } = r.prepare('', (s) => toStackRunRequest(s, ask('hi'), true));
  assert.equal(resolved, stack);
  const release = admission.acquire();
  await assert.rejects(r.run(resolved, request), { code: 'RESOURCE_EXHAUSTED' });
  release();
  assert.deepEqual(rejected, [['nope', 'NOT_FOUND'], ['demo', 'INVALID_ARGUMENT'], ['demo', 'RESOURCE_EXHAUSTED']]);
});

// What the gRPC door checks (run-request.ts, generation-checks.ts) and the stage-limit checks
// (request-limits.ts): every field named, proto3 zeros read as "the stack's value".
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../shared/errors.ts';
import type { RunRequest__Output } from '../../shared/generated/fslm/v1/RunRequest.ts';
import { fromWireParams } from '../src/generation-checks.ts';
import { RequestError } from '../src/request-errors.ts';
import { checkAgainstLimits, minTokens } from '../src/request-limits.ts';
import { GRPC_FIELDS, grpcParams, toStackRunRequest } from '../src/run-request.ts';
import { parseStack } from '../src/stack-loader.ts';
import type { StageLimits } from '../src/stage-limits.ts';
import type { StageParams } from '../src/types.ts';

const stack = parseStack(`apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: { name: demo }
spec:
  stages:
    - { name: first, model: m, system: "Be brief.", template: "Restate: {input}", params: { maxNewTokens: 16 } }
    - { name: second, model: m, template: "Request: {input} Notes: {stages.first}" }
`);
const wire = (params: Record<string, Partial<RunRequest__Output['params'][string]>>): RunRequest__Output => ({
  stack: 'demo', input: 'hi', request_id: '', disable_handoff: false,
  params: Object.fromEntries(Object.entries(params).map(([k, p]) => [k, { max_new_tokens: 0, temperature: 0, top_k: 0, top_p: 0, repetition_penalty: 0, stop: [], logprobs: false, top_logprobs: 0, ...p }])),
});
const ask = (params: Record<string, StageParams>, input = 'hi') => toStackRunRequest(stack, { input, params, fields: GRPC_FIELDS, deadlineMs: Infinity, signal: new AbortController().signal }, true);
const refusedField = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof RequestError, String(error));
    assert.equal(error.code, ErrorCode.InvalidArgument);
    return error.field;
  }
  assert.fail('accepted');
};
const limits = (l: Partial<StageLimits> = {}): StageLimits => ({ maxPromptTokens: 100, maxNewTokensLimit: 50, defaultMaxNewTokens: 20, maxPositions: 128, modelVersion: 'v', ...l });

describe('request checks', { timeout: 10_000 }, () => {
  test('gRPC params: zero means the stack\'s value; everything else is checked and named', () => {
    assert.deepEqual(fromWireParams(wire({ first: {} }).params.first), { max_new_tokens: undefined, temperature: undefined, top_k: undefined, top_p: undefined, repetition_penalty: undefined, seed: undefined, stop: undefined });
    const cases: Array<[Record<string, Partial<RunRequest__Output['params'][string]>>, string]> = [
      [{ first: { temperature: Number.NaN } }, 'params.first.temperature'],
      [{ first: { temperature: -1 } }, 'params.first.temperature'],
      [{ second: { temperature: 3 } }, 'params.second.temperature'],
      [{ first: { top_p: 1.5 } }, 'params.first.top_p'],
      [{ first: { top_p: -0.5 } }, 'params.first.top_p'],
      [{ first: { repetition_penalty: 0.05 } }, 'params.first.repetition_penalty'],
      [{ first: { repetition_penalty: Number.POSITIVE_INFINITY } }, 'params.first.repetition_penalty'],
      [{ first: { stop: Array.from({ length: 17 }, () => 'x') } }, 'params.first.stop'],
      [{ first: { stop: ['x'.repeat(257)] } }, 'params.first.stop[0]'],
      [{ nosuch: {} }, 'params.nosuch'],
    ];
    for (const [params, field] of cases) assert.equal(refusedField(() => ask(grpcParams(wire(params)))), field, JSON.stringify(params));
  });

  test('the input: empty, too long or not valid Unicode is refused naming it', () => {
    assert.equal(refusedField(() => ask({}, '  ')), 'input');
    assert.equal(refusedField(() => ask({}, 'x'.repeat((1 << 18) + 1))), 'input');
    assert.equal(refusedField(() => ask({}, 'bad \ud800 surrogate')), 'input');
    assert.equal(refusedField(() => ask({ first: { stop: ['\udc00'] } })), 'params.first.stop[0]');
  });

  test('the lower bound on tokens counts whitespace-separated words', () => {
    assert.equal(minTokens(''), 0);
    assert.equal(minTokens('  one\ttwo\n\nthree  '), 3);
    assert.equal(minTokens('The quick brown fox jumps over the lazy dog. '.repeat(800)), 7200);
  });

  test('against the stages\' limits: new tokens, the prompt limit and the context, each naming the field and the limit', () => {
    const ok = ask({ second: { max_new_tokens: 50 } });
    checkAgainstLimits(stack, ok, [limits(), limits()]);
    const over = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        return [(error as RequestError).field, (error as RequestError).openaiCode ?? '', (error as Error).message] as const;
      }
      assert.fail('accepted');
    };
    const [field, code, message] = over(() => checkAgainstLimits(stack, ask({ second: { max_new_tokens: 51 } }), [limits(), limits()]));
    assert.deepEqual([field, code], ['params.second.max_new_tokens', 'integer_above_max_value']);
    assert.match(message, /at most 50, the limit of stage second/);
    const long = ask({}, 'word '.repeat(99));
    const [inputField, inputCode, inputMessage] = over(() => checkAgainstLimits(stack, long, [limits(), limits()]));
    assert.deepEqual([inputField, inputCode], ['input', 'context_length_exceeded']);
    assert.match(inputMessage, /at least 102 tokens for stage first, which accepts at most 100/);
    // The context: the second stage's prompt (at least 2 + 80 words) plus the stage's default of 20 new tokens exceeds 100 positions.
    const [ctxField, , ctxMessage] = over(() => checkAgainstLimits(stack, ask({}, 'word '.repeat(80)), [limits(), limits({ maxPositions: 100 })]));
    assert.equal(ctxField, 'input');
    assert.match(ctxMessage, /stage second's model has a context of 100 tokens, but the prompt \(at least 82 tokens\) plus 20 new tokens exceed it/);
    const [askedField] = over(() => checkAgainstLimits(stack, ask({ first: { max_new_tokens: 40 } }, 'word '.repeat(60)), [limits({ maxPositions: 100 }), limits()]));
    assert.equal(askedField, 'params.first.max_new_tokens');
  });

  test('a stack definition that asks a stage for more than it allows is FAILED_PRECONDITION, not the client\'s fault', () => {
    assert.throws(() => checkAgainstLimits(stack, ask({}), [limits({ maxNewTokensLimit: 8 }), limits()]), { code: ErrorCode.FailedPrecondition, message: /asks stage first for 16 new tokens.*at most 8/ });
  });
});

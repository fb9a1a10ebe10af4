// Everything the engine works on is admitted first and held to the prompt and context limits, and
// stops within one engine step when its request ends: plain requests, hand-off prompts and the text
// appended to them. The engine's own counters show what it still holds. Tiny model (context 2048).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, FslmError, type FslmError as FslmErrorType } from '../../shared/errors.ts';
import { testModels } from '../../../test/support/models.ts';
import type { OnnxEngine } from '../src/engine-onnx.ts';
import type { EngineStats } from '../src/types.ts';
import { greedy, openEngine, run } from './support.ts';

const text = (t: string) => ({ kind: 'text' as const, text: t });
const WORDS = 'The quick brown fox jumps over the lazy dog near the quiet river bank. ';

function codeOf(error: unknown): string {
  return error instanceof FslmError ? error.code : `not an FslmError: ${error}`;
}

function idle(stats: EngineStats): void {
  const { active, queued, prefilling, openPrompts, admitted, kvRows, kvPositions } = stats;
  assert.deepEqual({ active, queued, prefilling, openPrompts, admitted, kvRows, kvPositions },
    { active: 0, queued: 0, prefilling: 0, openPrompts: 0, admitted: 0, kvRows: 0, kvPositions: 0 }, 'the engine holds nothing');
}

describe('engine admission, limits and ends', { timeout: 300_000 }, () => {
  let engine: OnnxEngine;
  let modelDir: string;
  before(async () => {
    modelDir = testModels('tiny')['tiny-onnx'];
    engine = await openEngine(modelDir, { maxBatchSize: 2, maxQueue: 1 });
  });
  after(() => engine.close());

  test('the limits are lowered to the model context, and a limit beyond it is refused at load', async () => {
    assert.equal(engine.artifact.manifest.decoder.max_position_embeddings, 2048);
    assert.deepEqual([engine.limits.maxPromptTokens, engine.limits.maxNewTokensLimit, engine.limits.contextTokens], [2047, 2047, 2048]);
    const error = await openEngine(modelDir, { maxPromptTokens: 4096 }).catch((e) => e);
    assert.equal(codeOf(error), ErrorCode.FailedPrecondition);
    assert.match(error.message, /maxPromptTokens 4096 .*context is 2048 positions/);
  });

  test('prompt + max_new_tokens beyond the context is refused with the numbers, never truncated', async () => {
    const prompt = text(WORDS.repeat(100));
    const tokens = engine.codec.encodePrompt(prompt).length;
    assert.ok(tokens < 2047 && tokens + 2000 > 2048, `${tokens} prompt tokens`);
    const error = await run(engine, prompt, greedy(2000)).catch((e) => e);
    assert.equal(codeOf(error), ErrorCode.InvalidArgument);
    assert.match(error.message, new RegExp(`${tokens} \\+ 2000 = ${tokens + 2000} exceeds the model's context of 2048`));
    assert.equal((await run(engine, prompt, greedy(2048 - tokens))).completionTokens, 2048 - tokens, 'exactly the context fits');
    idle(engine.currentStats());
  });

  test('prompt ids outside the vocabulary are refused before they reach a batch', async () => {
    for (const ids of [[1, 2, 999_999], [1, -1], [1.5]]) {
      const error = await run(engine, { kind: 'ids', ids }, greedy(2)).catch((e) => e);
      assert.equal(codeOf(error), ErrorCode.InvalidArgument, `ids ${ids}`);
    }
    idle(engine.currentStats());
  });

  test('a hand-off prompt counts against admission until it is started or discarded', async () => {
    // 2 batch slots + 1 queue place: two open prompts and one request fill the engine.
    const refusals: FslmErrorType[] = [];
    const a = engine.beginPrompt('open-a', { onRefused: (e) => refusals.push(e) });
    const b = engine.beginPrompt('open-b', { onRefused: (e) => refusals.push(e) });
    const abort = new AbortController();
    const running = run(engine, text('Busy'), greedy(2000), { signal: abort.signal });
    assert.equal(engine.currentStats().admitted, 3);
    const third = engine.beginPrompt('open-c', { onRefused: (e) => refusals.push(e) });
    const full = await run(engine, text('One too many'), greedy(2)).catch((e) => e);
    assert.equal(codeOf(full), ErrorCode.ResourceExhausted);
    assert.match(full.message, /hand-off prompts included/);
    await Promise.resolve();
    assert.deepEqual(refusals.map((e) => e.code), [ErrorCode.ResourceExhausted], 'the third prompt is refused');
    assert.equal(codeOf(await third.start([], greedy(2)).catch((e) => e)), ErrorCode.ResourceExhausted);
    a.discard();
    assert.equal((await run(engine, text('Fits now'), greedy(2))).completionTokens, 2);
    b.discard();
    abort.abort();
    assert.equal((await running).finishReason, 'cancelled');
    idle(engine.currentStats());
  });

  test('a hand-off prompt that outgrows the limits is refused and dropped at once, before any prefill', async () => {
    let refused: FslmErrorType | null = null;
    const prompt = engine.beginPrompt('too-long', { maxNewTokens: 8, onRefused: (e) => (refused = e) });
    const runsBefore = engine.currentStats().prefillRuns;
    prompt.append(WORDS.repeat(200));
    // One engine iteration handles the appended text before it prefills this request.
    await run(engine, text('x'), greedy(1));
    assert.ok(refused, 'the prompt was refused');
    assert.equal((refused as FslmErrorType).code, ErrorCode.InvalidArgument);
    assert.match((refused as FslmErrorType).message, /has at least \d+ tokens so far; this stage accepts at most 2047/);
    assert.equal(engine.currentStats().prefillRuns - runsBefore, 1, 'only the other request was prefilled');
    assert.equal(codeOf(await prompt.start([], greedy(8)).catch((e) => e)), ErrorCode.InvalidArgument);
    idle(engine.currentStats());
  });

  test('a hand-off prompt that would not leave room for max_new_tokens is refused as it grows', async () => {
    let refused: FslmErrorType | null = null;
    engine.beginPrompt('no-room', { maxNewTokens: 2000, onRefused: (e) => (refused = e) }).append(WORDS.repeat(20));
    await run(engine, text('x'), greedy(1));
    assert.match((refused as FslmErrorType | null)?.message ?? 'not refused', /\+ 2000 = \d+ exceeds the model's context of 2048/);
    idle(engine.currentStats());
  });

  test('a discarded hand-off prompt stops prefilling within one step and frees its cache', async () => {
    const prompt = engine.beginPrompt('discard-me', { maxNewTokens: 8 });
    prompt.append(WORDS.repeat(100));
    await run(engine, text('x'), greedy(1));
    const during = engine.currentStats();
    assert.ok(during.kvPositions > 0 && during.openPrompts === 1, 'a first chunk was prefilled');
    prompt.discard();
    const runsAfterDiscard = engine.currentStats().prefillRuns;
    await run(engine, text('y'), greedy(1));
    assert.equal(engine.currentStats().prefillRuns - runsAfterDiscard, 1, 'no more chunks of the discarded prompt');
    idle(engine.currentStats());
  });

  test('an aborted long prompt stops its chunked prefill within one step', async () => {
    const abort = new AbortController();
    const long = run(engine, text(WORDS.repeat(100)), greedy(8), { signal: abort.signal });
    const runsBefore = engine.currentStats().prefillRuns;
    // Prefill alternates between fresh short prompts and chunks of the long one.
    await run(engine, text('x'), greedy(1));
    abort.abort();
    const result = await long;
    assert.equal(result.finishReason, 'cancelled');
    assert.equal(result.completionTokens, 0);
    const chunks = Math.ceil(result.promptTokens / 128);
    assert.ok(engine.currentStats().prefillRuns - runsBefore < chunks, `stopped before all ${chunks} chunks ran`);
    idle(engine.currentStats());
  });
});

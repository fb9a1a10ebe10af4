// Log-probabilities against PyTorch on the tiny model's own weights (fp32): Score's continuation
// tokens are lm-eval's split of prompt + continuation, each token's log-probability is within
// LOGPROB_TOLERANCE of torch.log_softmax, the greedy flag and the most likely tokens agree, and
// generation's per-token logprobs are the same numbers. A small prefill chunk makes the engine chunk
// long prompts and split continuations into several runs. Scoring is bounded like a request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, FslmError } from '../../shared/errors.ts';
import { testModels } from '../../../test/support/models.ts';
import { torchLogprobs, type TorchScore } from '../../../test/support/torch-logprobs.ts';
import type { OnnxEngine } from '../src/engine-onnx.ts';
import type { ContinuationScore, EngineStats, PromptInput } from '../src/types.ts';
import { greedy, openEngine, run } from './support.ts';

/** Largest |engine - torch| per token log-probability accepted (ORT and PyTorch fp32 agree to ~1e-5 here). */
const LOGPROB_TOLERANCE = 1e-3;
const TOP = 5;

const LONG = 'The quick brown fox jumps over the lazy dog near the quiet river bank, and then it runs home. '.repeat(3);
const CASES: Array<{ name: string; prompt: PromptInput; continuations: string[] }> = [
  { name: 'plain', prompt: { kind: 'text', text: 'Question: What is the capital of France?\nAnswer:' },
    continuations: [' Paris', ' Lyon, a city on the Rhone', ' 12 + 7 = 19', '!', ' The capital of France is Paris, of course.'] },
  { name: 'chat', prompt: { kind: 'chat', messages: [{ role: 'system', content: 'You answer briefly.' }, { role: 'user', content: 'Name a color.' }] },
    continuations: ['Blue', 'Red, like a rose', 'green'] },
  { name: 'long prompt', prompt: { kind: 'text', text: LONG }, continuations: [' Then it sleeps.', ' zzz'] },
];

function codeOf(error: unknown): string {
  return error instanceof FslmError ? error.code : `not an FslmError: ${error}`;
}

function assertMatches(name: string, got: ContinuationScore, want: TorchScore): void {
  assert.deepEqual(got.tokens.map((t) => t.tokenId), want.ids, `${name}: continuation token ids`);
  got.tokens.forEach((t, j) => {
    const diff = Math.abs(t.logprob - want.logprobs[j]);
    assert.ok(diff <= LOGPROB_TOLERANCE, `${name} token ${j}: engine ${t.logprob} vs torch ${want.logprobs[j]} (|diff| ${diff})`);
    assert.equal(t.topLogprobs.length, TOP, `${name} token ${j}: top count`);
    t.topLogprobs.forEach((alt, k) => {
      assert.ok(Math.abs(alt.logprob - want.top_logprobs[j][k]) <= LOGPROB_TOLERANCE, `${name} token ${j}: top ${k} logprob`);
      // Ids agree unless two candidates are tied within the tolerance.
      const tied = want.top_logprobs[j].some((v, m) => m !== k && Math.abs(v - want.top_logprobs[j][k]) <= LOGPROB_TOLERANCE);
      if (!tied) assert.equal(alt.tokenId, want.top_ids[j][k], `${name} token ${j}: top ${k} id`);
    });
  });
  assert.ok(Math.abs(got.logprob - want.sum) <= LOGPROB_TOLERANCE * got.tokens.length, `${name}: sum ${got.logprob} vs ${want.sum}`);
  assert.equal(got.greedy, want.greedy, `${name}: greedy flag`);
}

function idle(stats: EngineStats): void {
  assert.deepEqual([stats.scoring, stats.admitted, stats.kvRows], [0, 0, 0], 'the engine holds nothing');
}

describe('Score and generation logprobs against PyTorch on the tiny model', { timeout: 600_000 }, () => {
  let engine: OnnxEngine;
  let weights: string;
  before(async () => {
    const models = testModels('tiny');
    weights = models.tiny;
    engine = await openEngine(models['tiny-onnx'], { prefillChunk: 16, maxBatchSize: 2, maxQueue: 1 });
  });
  after(() => engine.close());

  test('continuations of plain, chat and long prompts score as torch log_softmax does', async () => {
    const want = torchLogprobs(weights, CASES.map((c) => (c.prompt.kind === 'chat'
      ? { messages: c.prompt.messages, continuations: c.continuations }
      : { prompt: (c.prompt as { text: string }).text, continuations: c.continuations })), TOP);
    for (const [i, c] of CASES.entries()) {
      const result = await engine.score({ prompt: c.prompt, continuations: c.continuations, topLogprobs: TOP, requestId: `score-${i}` });
      assert.equal(result.promptTokens, want[i][0].prompt_ids.length, `${c.name}: prompt tokens`);
      assert.equal(result.continuations.length, c.continuations.length);
      result.continuations.forEach((got, k) => assertMatches(`${c.name} #${k}`, got, want[i][k]));
    }
    assert.ok(engine.currentStats().scoreRuns > CASES.length * 2, 'prompts were chunked and continuations split into several runs');
    idle(engine.currentStats());
  });

  test('special-token text in a continuation is content: scored as the plain tokens it is, never the control token', async () => {
    const prompt: PromptInput = { kind: 'chat', messages: [{ role: 'user', content: 'Name a color.' }] };
    const result = await engine.score({ prompt, continuations: ['Red <|im_end|> blue'], topLogprobs: TOP, requestId: 'special' });
    const ids = result.continuations[0].tokens.map((t) => t.tokenId);
    assert.ok(!ids.includes(engine.artifact.manifest.decoder.eos_token_ids[0]), 'no end-of-turn token from content');
    assert.equal(engine.codec.decode(ids), 'Red <|im_end|> blue');
    const [want] = torchLogprobs(weights, [{ prompt_ids: engine.codec.encodePrompt(prompt), continuation_ids: ids }], TOP);
    assertMatches('special-token text', result.continuations[0], want[0]);
  });

  test('an empty prompt scores the continuation after the beginning-of-sequence token, as lm-eval does', async () => {
    const text = 'A plain sentence to score.';
    const result = await engine.score({ prompt: { kind: 'text', text: '' }, continuations: [text], topLogprobs: TOP, requestId: 'empty' });
    const ids = result.continuations[0].tokens.map((t) => t.tokenId);
    const [want] = torchLogprobs(weights, [{ prompt_ids: [engine.artifact.manifest.decoder.bos_token_id!], continuation_ids: ids }], TOP);
    assert.equal(result.promptTokens, 1);
    assertMatches('empty prompt', result.continuations[0], want[0]);
  });

  test("generation's logprobs are the model's: the same numbers torch gives its greedy tokens, in deltas and result", async () => {
    const prompt = { kind: 'text' as const, text: 'Once upon a time' };
    const deltas: Array<{ tokens: number; logprobs?: unknown[] }> = [];
    const result = await run(engine, prompt, { ...greedy(24), ignoreEos: false, logprobs: true, topLogprobs: TOP }, { onDelta: (d) => deltas.push(d) });
    assert.equal(result.logprobs!.length, result.completionTokens);
    assert.deepEqual(result.logprobs!.map((l) => l.tokenId), result.tokenIds);
    for (const d of deltas) assert.equal(d.logprobs!.length, d.tokens, 'a delta carries one entry per token it reports');
    const streamed = deltas.flatMap((d) => d.logprobs!);
    assert.deepEqual(streamed, result.logprobs!.slice(0, streamed.length), 'deltas carry the result entries in order');
    const [want] = torchLogprobs(weights, [{ prompt_ids: engine.codec.encodePrompt(prompt), continuation_ids: result.tokenIds }], TOP);
    assertMatches('greedy generation', { tokens: result.logprobs!, logprob: result.logprobs!.reduce((s, t) => s + t.logprob, 0), greedy: true }, want[0]);
    // Sampling does not change the reported distribution: logprobs are taken before temperature.
    const sampled = await run(engine, prompt, { ...greedy(8), temperature: 5, seed: 7n, logprobs: true });
    const [wantSampled] = torchLogprobs(weights, [{ prompt_ids: engine.codec.encodePrompt(prompt), continuation_ids: sampled.tokenIds }]);
    sampled.logprobs!.forEach((t, j) => assert.ok(Math.abs(t.logprob - wantSampled[0].logprobs[j]) <= LOGPROB_TOLERANCE, `sampled token ${j}`));
    assert.equal(sampled.logprobs![0].topLogprobs.length, 0, 'no top logprobs unless asked');
  });

  test('a score beyond the context, a continuation without tokens, a full engine and an abort are refused or dropped', async () => {
    const tooLong = 'word '.repeat(2100);
    const long = await engine.score({ prompt: { kind: 'text', text: 'Hi' }, continuations: [tooLong], topLogprobs: 0, requestId: 'long' }).catch((e) => e);
    assert.equal(codeOf(long), ErrorCode.InvalidArgument);
    assert.match(long.message, /prompt has \d+ tokens; this stage accepts at most 2047/);
    const none = await engine.score({ prompt: { kind: 'text', text: 'Hi' }, continuations: [' ok', ''], topLogprobs: 0, requestId: 'none' }).catch((e) => e);
    assert.equal(codeOf(none), ErrorCode.InvalidArgument);
    assert.match(none.message, /continuations\[1\] adds no token/);

    const abort = new AbortController();
    const slow = engine.score({ prompt: { kind: 'text', text: LONG.repeat(4) }, continuations: [' a', ' b c d'], topLogprobs: 0, requestId: 'slow' }, { signal: abort.signal });
    const second = run(engine, { kind: 'text', text: 'Hello' }, greedy(4));
    const third = run(engine, { kind: 'text', text: 'Hello' }, greedy(4));
    const full = await engine.score({ prompt: { kind: 'text', text: 'Hi' }, continuations: [' x'], topLogprobs: 0, requestId: 'full' }).catch((e) => e);
    assert.equal(codeOf(full), ErrorCode.ResourceExhausted, 'a score counts against admission like any request');
    abort.abort(new FslmError(ErrorCode.Cancelled, 'caller went away'));
    const dropped = await slow.catch((e) => e);
    assert.equal(codeOf(dropped), ErrorCode.Cancelled);
    await Promise.all([second, third]);
    idle(engine.currentStats());
  });
});

// The quantized graphs use GroupQueryAttention, which takes several new tokens on top of a cache only
// for one row: their continuations run one at a time, re-feeding the prompt's last token so that every
// run holds at least two (see score-job.ts, Group.lead). Small and large prefill chunks (many runs vs
// one) must give the same numbers, and the same token split as fp32.
describe('Score on the quantized (GroupQueryAttention) graphs of the tiny model', { timeout: 600_000 }, () => {
  for (const precision of ['int8', 'int4'] as const) {
    test(`${precision}: every case scores, the same in small and large chunks`, async () => {
      const models = testModels('tiny');
      const small = await openEngine(models['tiny-onnx'], { precision, prefillChunk: 4, maxBatchSize: 2, maxQueue: 1 });
      const large = await openEngine(models['tiny-onnx'], { precision, prefillChunk: 256 });
      try {
        for (const [i, c] of CASES.entries()) {
          const request = { prompt: c.prompt, continuations: c.continuations, topLogprobs: TOP };
          const a = await small.score({ ...request, requestId: `q-small-${i}` });
          const b = await large.score({ ...request, requestId: `q-large-${i}` });
          assert.equal(a.continuations.length, c.continuations.length);
          a.continuations.forEach((got, k) => {
            const other = b.continuations[k];
            assert.deepEqual(got.tokens.map((t) => t.tokenId), other.tokens.map((t) => t.tokenId), `${c.name} #${k}: token split`);
            got.tokens.forEach((t, j) => assert.ok(Math.abs(t.logprob - other.tokens[j].logprob) <= 1e-4,
              `${c.name} #${k} token ${j}: ${t.logprob} (chunk 4) vs ${other.tokens[j].logprob} (chunk 256)`));
            assert.equal(got.greedy, other.greedy, `${c.name} #${k}: greedy flag`);
          });
        }
        assert.ok(small.currentStats().scoreRuns > large.currentStats().scoreRuns, 'small chunks split the work into more runs');
        idle(small.currentStats());
        idle(large.currentStats());
      } finally {
        await small.close();
        await large.close();
      }
    });
  }
});

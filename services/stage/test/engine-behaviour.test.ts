// How the engine behaves on the tiny model: streaming, stops, cancellation, limits, integrity checks.
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, FslmError } from '../../shared/errors.ts';
import { testModels } from '../../../test/support/models.ts';
import type { OnnxEngine } from '../src/engine-onnx.ts';
import { TextStream } from '../src/text-stream.ts';
import { greedy, openEngine, run } from './support.ts';

let engine: OnnxEngine;
let modelDir: string;
const text = (t: string) => ({ kind: 'text' as const, text: t });

describe('the engine on the tiny model', { timeout: 300_000 }, () => {
  before(async () => {
    modelDir = testModels('tiny')['tiny-onnx'];
    engine = await openEngine(modelDir, { maxBatchSize: 4, maxQueue: 2, maxPromptTokens: 64 });
  });
  after(() => engine.close());

  test('streamed deltas add up to the final text, in sequence', async () => {
    const deltas: string[] = [];
    const seqs: number[] = [];
    const result = await run(engine, text('Emoji 🙂 and accents: café, naïve —'), greedy(40), {
      onDelta: (d) => {
        deltas.push(d.text);
        seqs.push(d.seq);
      },
    });
    assert.equal(deltas.join(''), result.text);
    assert.deepEqual(seqs, seqs.map((_, i) => i));
    assert.equal(result.finishReason, 'length');
    assert.equal(result.completionTokens, 40);
  });

  test('text streamed token by token never splits a character', () => {
    const text = 'Emoji 🚀🎉👩‍💻, CJK 日本語のテキスト, accents café naïve — done.';
    const ids = engine.codec.encode(text, false);
    const stream = new TextStream((part) => engine.codec.decode(part));
    const deltas = ids.map((id) => stream.push(id)).filter((d) => d.length > 0);
    assert.ok(ids.length > deltas.length, 'some tokens carry only part of a character');
    assert.ok(deltas.every((d) => !d.includes('\uFFFD')), JSON.stringify(deltas));
    assert.equal(deltas.join('') + stream.flush(), text);
  });

  test('generation stops before a stop string and does not stream it', async () => {
    const full = await run(engine, text('The list:'), greedy(24));
    const stop = full.text.slice(6, 9);
    assert.ok(stop.length > 0, 'the tiny model produced text to stop on');
    let streamed = '';
    const stopped = await run(engine, text('The list:'), greedy(24, { stop: [stop] }), { onDelta: (d) => (streamed += d.text) });
    assert.equal(stopped.finishReason, 'stop');
    assert.equal(stopped.text, full.text.slice(0, full.text.indexOf(stop)));
    assert.equal(streamed, stopped.text);
  });

  test('a request that joins a running batch gets the same greedy text as alone', async () => {
    const alone = await run(engine, text('Second prompt, shorter'), greedy(16));
    let joined: Promise<unknown> | null = null;
    let second: Awaited<ReturnType<typeof run>> | null = null;
    await run(engine, text('A much longer first prompt that is already decoding when the next one arrives'), greedy(32), {
      onDelta: (d) => {
        if (d.seq === 3) joined = run(engine, text('Second prompt, shorter'), greedy(16)).then((r) => (second = r));
      },
    });
    await joined;
    assert.deepEqual(second!.tokenIds, alone.tokenIds);
  });

  test('an aborted request stops within one decode step', async () => {
    const controller = new AbortController();
    const stepsBefore = engine.currentStats().decodeSteps;
    let deltasAfterAbort = 0;
    let aborted = false;
    const result = await run(engine, text('Count forever:'), greedy(1000), {
      signal: controller.signal,
      onDelta: () => {
        if (aborted) deltasAfterAbort++;
        else if (engine.currentStats().decodeSteps - stepsBefore >= 5) {
          aborted = true;
          controller.abort();
        }
      },
    });
    assert.equal(result.finishReason, 'cancelled');
    assert.ok(result.completionTokens < 1000);
    assert.ok(deltasAfterAbort <= 1, `${deltasAfterAbort} deltas after the abort`);
    assert.equal(engine.currentStats().active, 0);
  });

  test('a full queue refuses with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const controller = new AbortController();
    // 4 batch slots + 2 queue places.
    const running = Array.from({ length: 6 }, () => run(engine, text('Busy'), greedy(2000), { signal: controller.signal }).catch((e) => e));
    const extra = await run(engine, text('One too many'), greedy(4)).catch((e) => e);
    controller.abort();
    const settled = await Promise.all(running);
    assert.ok(extra instanceof FslmError && extra.code === ErrorCode.ResourceExhausted, `got ${extra}`);
    assert.deepEqual(settled.map((r) => r.finishReason), new Array(6).fill('cancelled'));
    assert.equal((await run(engine, text('Still serving'), greedy(3))).completionTokens, 3);
  });

  test('empty and oversized prompts are refused with INVALID_ARGUMENT', async () => {
    for (const prompt of ['', 'word '.repeat(200)]) {
      const error = await run(engine, text(prompt), greedy(2)).catch((e) => e);
      assert.ok(error instanceof FslmError && error.code === ErrorCode.InvalidArgument, `got ${error}`);
    }
  });

  test('a prompt fed in pieces gives the same greedy text as the whole prompt', async () => {
    const whole = 'Stage one wrote this text: the keywords are apples, pears and 12345 plums.\nNow answer:';
    const expected = await run(engine, text(whole), greedy(16));
    const prompt = engine.beginPrompt('pieces', { maxNewTokens: 16 });
    for (const piece of whole.slice(0, 60).match(/.{1,7}/gs)!) prompt.append(piece);
    // One engine iteration prefills a chunk of the prompt before it prefills this request.
    await run(engine, text('x'), greedy(1));
    assert.ok(engine.currentStats().kvPositions > 0, 'part of the prompt was prefilled before start()');
    const result = await prompt.start([{ text: whole.slice(60), markup: false }], greedy(16));
    assert.deepEqual(result.tokenIds, expected.tokenIds);
  });

  test('the int8 model loads and generates', async () => {
    const int8 = await openEngine(modelDir, { precision: 'int8' });
    try {
      const result = await run(int8, text('Hello'), greedy(8));
      assert.equal(result.completionTokens, 8);
    } finally {
      await int8.close();
    }
  });

  test('a model file that does not match its sha256 is refused', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fslm-tampered-'));
    try {
      await cp(modelDir, dir, { recursive: true });
      const configPath = path.join(dir, 'config.json');
      await writeFile(configPath, (await readFile(configPath, 'utf8')).replace('{', '{ '));
      const error = await openEngine(dir).catch((e) => e);
      assert.ok(error instanceof FslmError && error.code === ErrorCode.FailedPrecondition, `got ${error}`);
      assert.match(error.message, /sha256 mismatch for config\.json/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// The engine on its own thread behaves like the in-process engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, FslmError } from '../../shared/errors.ts';
import { testModels } from '../../../test/support/models.ts';
import { ThreadedEngine } from '../src/engine-threaded.ts';
import type { OnnxEngine } from '../src/engine-onnx.ts';
import { greedy, openEngine } from './support.ts';

let threaded: ThreadedEngine;
let inProcess: OnnxEngine;
const text = (t: string) => ({ kind: 'text' as const, text: t });

describe('the engine on its own thread', { timeout: 300_000 }, () => {
  before(async () => {
    const dir = testModels('tiny')['tiny-onnx'];
    threaded = await ThreadedEngine.load({ modelDir: dir, intraOpThreads: 1, maxBatchSize: 2, maxQueue: 1 });
    inProcess = await openEngine(dir);
  });
  after(async () => {
    await threaded.close();
    await inProcess.close();
  });

  test('greedy text and streamed deltas match the in-process engine', async () => {
    const sampling = greedy(20);
    const expected = await inProcess.generate({ prompt: text('Threads and engines'), sampling, requestId: 'a' });
    let streamed = '';
    const result = await threaded.generate({ prompt: text('Threads and engines'), sampling, requestId: 'b' }, { onDelta: (d) => (streamed += d.text) });
    assert.deepEqual(result.tokenIds, expected.tokenIds);
    assert.equal(streamed, result.text);
    assert.deepEqual([threaded.limits.maxBatchSize, threaded.limits.maxQueue], [2, 1], 'the limits the engine thread applies come back');
  });

  test('engine errors keep their codes across the thread', async () => {
    const empty = await threaded.generate({ prompt: text(''), sampling: greedy(2), requestId: 'c' }).catch((e) => e);
    assert.ok(empty instanceof FslmError && empty.code === ErrorCode.InvalidArgument, `got ${empty}`);
    const abort = new AbortController();
    const busy = Array.from({ length: 3 }, (_, i) => threaded.generate({ prompt: text('busy'), sampling: greedy(2000), requestId: `busy-${i}` }, { signal: abort.signal }));
    const refused = await threaded.generate({ prompt: text('more'), sampling: greedy(2), requestId: 'd' }).catch((e) => e);
    abort.abort();
    assert.deepEqual((await Promise.all(busy)).map((r) => r.finishReason), ['cancelled', 'cancelled', 'cancelled']);
    assert.ok(refused instanceof FslmError && refused.code === ErrorCode.ResourceExhausted, `got ${refused}`);
  });

  test('an incremental prompt works across the thread', async () => {
    const whole = 'First stage said: alpha beta gamma delta.\nSecond stage answers:';
    const expected = await inProcess.generate({ prompt: text(whole), sampling: greedy(10), requestId: 'e' });
    const prompt = threaded.beginPrompt('f');
    prompt.append(whole.slice(0, 20));
    prompt.append(whole.slice(20, 40));
    const result = await prompt.start([{ text: whole.slice(40), markup: false }], greedy(10));
    assert.deepEqual(result.tokenIds, expected.tokenIds);
  });
  for (const fault of ['exit', 'throw'] as const) {
    test(`when the engine thread ${fault === 'exit' ? 'exits' : 'throws'}, every call settles at once with UNAVAILABLE`, async () => {
      const dying = await ThreadedEngine.load({ modelDir: testModels('tiny')['tiny-onnx'], intraOpThreads: 1 });
      let failed!: (error: FslmError) => void;
      const failure = new Promise<FslmError>((resolve) => (failed = resolve));
      dying.onFailure(failed);
      let refused: FslmError | null = null;
      const open = dying.beginPrompt('open', { onRefused: (e) => (refused = e) });
      let firstDelta!: () => void;
      const generating = new Promise<void>((resolve) => (firstDelta = resolve));
      const inFlight = dying.generate({ prompt: text('Go on'), sampling: greedy(2000), requestId: 'in-flight' }, { onDelta: () => firstDelta() }).catch((e) => e);
      await generating;
      dying.injectFault(fault);
      const error = await failure;
      assert.equal(error.code, ErrorCode.Unavailable);
      assert.match(error.message, fault === 'exit' ? /engine thread exited/ : /fault injection: the engine thread throws/);
      assert.equal((await inFlight).code, ErrorCode.Unavailable, 'the call in flight settled');
      assert.equal((refused as FslmError | null)?.code, ErrorCode.Unavailable, 'the open prompt was refused');
      const later = await dying.generate({ prompt: text('later'), sampling: greedy(2), requestId: 'later' }).catch((e) => e);
      assert.equal(later.code, ErrorCode.Unavailable, 'a later call fails at once');
      assert.equal((await open.start([], greedy(2)).catch((e) => e)).code, ErrorCode.Unavailable);
      assert.equal((await dying.stats().catch((e) => e)).code, ErrorCode.Unavailable);
      await dying.close();
    });
  }
});

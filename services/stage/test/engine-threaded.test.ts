// The engine on its own thread behaves like the in-process engine.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode, FslmError } from '../../shared/errors.ts';
import { testModels } from '../../../test/support/models.ts';
import { ThreadedEngine } from '../src/engine-threaded.ts';
import type { OnnxEngine } from '../src/engine-onnx.ts';
import { greedy, openEngine } from './support.ts';

let threaded: ThreadedEngine;
let inProcess: OnnxEngine;
const text = (t: string) => ({ kind: 'text' as const, text: t });

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
  const busy = Array.from({ length: 3 }, (_, i) => threaded.generate({ prompt: text('busy'), sampling: greedy(5000), requestId: `busy-${i}` }, { signal: abort.signal }));
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
  const result = await prompt.start(whole.slice(40), greedy(10));
  assert.deepEqual(result.tokenIds, expected.tokenIds);
});

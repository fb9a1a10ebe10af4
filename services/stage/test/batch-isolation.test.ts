// One request's failure inside a batched step fails that request only: the other rows of the same
// decode batch or prefill group finish with exactly the tokens they get alone. Tiny model.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, FslmError } from '../../shared/errors.ts';
import { testModels } from '../../../test/support/models.ts';
import type { OnnxEngine } from '../src/engine-onnx.ts';
import type { GenerateCallbacks, GenerateResult } from '../src/types.ts';
import { greedy, openEngine, run } from './support.ts';

const text = (t: string) => ({ kind: 'text' as const, text: t });
const PROMPTS = ['First row of the batch', 'Second row, a little longer than the first', 'Third'];

describe('a failure in a batched step stays with its request', { timeout: 300_000 }, () => {
  let engine: OnnxEngine;
  let alone: number[][];
  before(async () => {
    engine = await openEngine(testModels('tiny')['tiny-onnx'], { maxBatchSize: 8 });
    alone = [];
    for (const prompt of PROMPTS) alone.push((await run(engine, text(prompt), greedy(12))).tokenIds);
  });
  after(() => engine.close());

  /** Runs the prompts together, the one at `bad` with `callbacks`; returns every outcome. */
  async function together(bad: number, callbacks: GenerateCallbacks): Promise<Array<GenerateResult | FslmError>> {
    const steps = engine.currentStats().decodeSteps;
    const outcomes = await Promise.all(PROMPTS.map((prompt, i) =>
      run(engine, text(prompt), greedy(12), i === bad ? callbacks : {}).catch((e: FslmError) => e)));
    assert.ok(engine.currentStats().decodeSteps - steps < PROMPTS.length * 12, 'the rows were decoded together');
    return outcomes;
  }

  function check(outcomes: Array<GenerateResult | FslmError>, bad: number, message: RegExp): void {
    outcomes.forEach((outcome, i) => {
      if (i === bad) {
        assert.ok(outcome instanceof FslmError && outcome.code === ErrorCode.Internal, `row ${i} failed: ${outcome}`);
        assert.match(outcome.message, message);
      } else {
        assert.ok(!(outcome instanceof Error), `row ${i} did not fail: ${outcome}`);
        assert.deepEqual(outcome.tokenIds, alone[i], `row ${i} has its own greedy tokens`);
      }
    });
    const s = engine.currentStats();
    assert.deepEqual([s.active, s.queued, s.prefilling, s.admitted, s.kvRows], [0, 0, 0, 0, 0], 'nothing is left in the engine');
  }

  test('a delta consumer that throws mid-decode fails its own request only', async () => {
    let deltas = 0;
    const outcomes = await together(1, {
      onDelta: () => {
        if (++deltas === 4) throw new Error('the client stream broke');
      },
    });
    check(outcomes, 1, /the client stream broke/);
  });

  test('a failure at the first token (the grouped prefill) fails its own request only', async () => {
    const outcomes = await together(0, {
      onDelta: () => {
        throw new Error('refused the first delta');
      },
    });
    check(outcomes, 0, /refused the first delta/);
  });

  test('a logits consumer that throws fails its own request only', async () => {
    let rows = 0;
    const outcomes = await together(2, {
      onLogits: () => {
        if (++rows === 3) throw new Error('logits check failed');
      },
    });
    check(outcomes, 2, /logits check failed/);
  });

  test('a failure while the held-back text is flushed at the end still settles the request, and only it', async () => {
    // A stop string starting with the last character holds that character back until the end.
    const whole = engine.codec.decode(alone[1]);
    let streamed = '';
    let thrown = false;
    const outcomes = await Promise.all([
      run(engine, text(PROMPTS[0]), greedy(12)),
      run(engine, text(PROMPTS[1]), greedy(12, { stop: [`${whole.slice(-1)}\u0000`] }), {
        onDelta: (delta) => {
          streamed += delta.text;
          if (streamed === whole) {
            thrown = true;
            throw new Error('flush failed');
          }
        },
      }).catch((e: FslmError) => e),
    ]);
    assert.ok(thrown, 'the last text came in the final flush');
    assert.deepEqual((outcomes[0] as GenerateResult).tokenIds, alone[0]);
    assert.ok(outcomes[1] instanceof FslmError && /flush failed/.test(outcomes[1].message), `got ${outcomes[1]}`);
  });
});

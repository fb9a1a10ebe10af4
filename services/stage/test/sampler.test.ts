import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Sampler, SeededRandom, argmax } from '../src/sampler.ts';
import type { SamplingOptions } from '../src/types.ts';

const base: SamplingOptions = {
  maxNewTokens: 8, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 7n, stop: [], ignoreEos: false,
};

function logits(values: number[]): Float32Array {
  return Float32Array.from(values);
}

describe('the sampler', { timeout: 60_000 }, () => {
  test('greedy picks the largest logit', () => {
    assert.equal(new Sampler(base, []).pick(logits([0.1, 3, 2.9, -1])), 1);
    assert.equal(argmax(logits([5, 5, 1])), 0);
  });

  test('the same seed gives the same samples and another seed differs', () => {
    const draw = (seed: bigint) => {
      const sampler = new Sampler({ ...base, temperature: 1, seed }, []);
      return Array.from({ length: 64 }, () => sampler.pick(logits([1, 1, 1, 1, 1, 1, 1, 1])));
    };
    assert.deepEqual(draw(42n), draw(42n));
    assert.notDeepEqual(draw(42n), draw(43n));
  });

  test('top-k keeps only the k most likely tokens', () => {
    const sampler = new Sampler({ ...base, temperature: 5, topK: 2, seed: 1n }, []);
    const seen = new Set(Array.from({ length: 200 }, () => sampler.pick(logits([0, 4, 0, 3.9, 0]))));
    assert.deepEqual([...seen].sort(), [1, 3]);
  });

  test('top-p keeps the smallest set reaching the probability mass', () => {
    const sampler = new Sampler({ ...base, temperature: 1, topP: 0.5, seed: 3n }, []);
    const seen = new Set(Array.from({ length: 200 }, () => sampler.pick(logits([10, 0, 0, 0]))));
    assert.deepEqual([...seen], [0]);
  });

  test('repetition penalty lowers tokens already in the prompt', () => {
    const sampler = new Sampler({ ...base, repetitionPenalty: 2 }, [0]);
    assert.equal(sampler.pick(logits([3, 2])), 1);
  });

  test('sampling frequencies follow the softmax', () => {
    const sampler = new Sampler({ ...base, temperature: 1, seed: 11n }, []);
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) counts[sampler.pick(logits([Math.log(3), 0]))]++;
    const share = counts[0] / 4000;
    assert.ok(share > 0.7 && share < 0.8, `share of the 3:1 token was ${share}`);
  });

  test('the seeded generator is uniform enough', () => {
    const random = new SeededRandom(123n);
    let sum = 0;
    for (let i = 0; i < 10000; i++) sum += random.next();
    assert.ok(Math.abs(sum / 10000 - 0.5) < 0.02);
  });
});

// prefillSpan: how a prompt is cut into prefill runs. Whatever the cache holds and whatever the chunk,
// no run feeds a lone token on top of a cache (unless every run is one token), runs stay within the
// chunk, and a prompt prefilled run by run ends with its last position computed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { minAheadRun, prefillSpan } from '../src/prefill-span.ts';

/** The runs that prefill a prompt of `total` ids from `cached` cached ones, as PrefillStep runs them. */
function runsOf(cached: number, total: number, chunk: number): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let at = cached;
  do {
    const { from, to } = prefillSpan(at, total, chunk);
    runs.push([from, to]);
    at = to;
  } while (at < total);
  return runs;
}

describe('prefillSpan', { timeout: 60_000 }, () => {
  test('a prompt within the chunk is one run', () => {
    assert.deepEqual(prefillSpan(0, 40, 128), { from: 0, to: 40 });
    assert.deepEqual(prefillSpan(0, 1, 128), { from: 0, to: 1 });
  });

  test('one token left on top of a cache: the run steps back over the last cached position', () => {
    assert.deepEqual(prefillSpan(39, 40, 128), { from: 38, to: 40 });
    assert.deepEqual(prefillSpan(1, 2, 128), { from: 0, to: 2 });
  });

  test('everything cached: the last two positions are recomputed for the logits (the last alone for a one-token prompt)', () => {
    assert.deepEqual(prefillSpan(40, 40, 128), { from: 38, to: 40 });
    assert.deepEqual(prefillSpan(1, 1, 128), { from: 0, to: 1 });
  });

  test('a long prompt is cut so that its last run is not one token', () => {
    assert.deepEqual(runsOf(0, 129, 128), [[0, 127], [127, 129]]);
    assert.deepEqual(runsOf(0, 256, 128), [[0, 128], [128, 256]]);
    assert.deepEqual(runsOf(0, 5, 2), [[0, 2], [2, 4], [3, 5]]);
  });

  test('for every cache, prompt and chunk: runs of two or more within the chunk, contiguous, ending at the prompt', () => {
    for (let chunk = 2; chunk <= 6; chunk++) {
      for (let total = 1; total <= 20; total++) {
        for (let cached = 0; cached <= total; cached++) {
          const runs = runsOf(cached, total, chunk);
          assert.equal(runs[runs.length - 1][1], total);
          runs.forEach(([from, to], i) => {
            const where = `chunk ${chunk}, total ${total}, cached ${cached}, run ${i}`;
            assert.ok(to - from <= chunk, where);
            assert.ok(to - from >= 2 || (from === 0 && total === 1), `${where}: a lone token on top of a cache`);
            assert.ok(from <= (i === 0 ? cached : runs[i - 1][1]), `${where}: a gap`);
            assert.ok(from >= (i === 0 ? Math.max(0, cached - 2) : runs[i - 1][1] - 1), `${where}: steps back more than needed`);
          });
        }
      }
    }
  });

  test('with a chunk of one every run is one token', () => {
    assert.deepEqual(runsOf(0, 3, 1), [[0, 1], [1, 2], [2, 3]]);
    assert.deepEqual(prefillSpan(3, 3, 1), { from: 2, to: 3 });
    assert.equal(minAheadRun(1), 1);
    assert.equal(minAheadRun(128), 2);
  });

  test('arguments out of range are refused', () => {
    assert.throws(() => prefillSpan(0, 0, 128), RangeError);
    assert.throws(() => prefillSpan(5, 4, 128), RangeError);
    assert.throws(() => prefillSpan(-1, 4, 128), RangeError);
    assert.throws(() => prefillSpan(0, 4, 0), RangeError);
    assert.throws(() => prefillSpan(0.5, 4, 128), RangeError);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import ort from 'onnxruntime-node';
import { KvCache } from '../src/kv-cache.ts';

const geometry = { layers: 1, heads: 2, headDim: 1 };

/** A cache whose value at (row, head, column) encodes those three numbers. */
function cacheOf(lengths: number[], width: number): KvCache {
  const data = new Float32Array(lengths.length * geometry.heads * width);
  lengths.forEach((_, r) => {
    for (let h = 0; h < geometry.heads; h++) for (let c = 0; c < width; c++) data[(r * geometry.heads + h) * width + c] = r * 100 + h * 10 + c;
  });
  const tensor = new ort.Tensor('float32', data, [lengths.length, geometry.heads, width, 1]);
  return KvCache.fromOutputs(geometry, { 'present.0.key': tensor, 'present.0.value': tensor }, lengths, width);
}

function keys(cache: KvCache): number[] {
  const feeds: Record<string, ort.Tensor> = {};
  cache.feeds(feeds);
  return Array.from(feeds['past_key_values.0.key'].data as Float32Array);
}

describe('KV cache rows', { timeout: 60_000 }, () => {
  test('gather right-aligns rows of different lengths and drops their padding', () => {
    const a = cacheOf([3, 1], 3); // row 1 has two padding columns
    const b = cacheOf([2], 2);
    const merged = KvCache.gather(geometry, [{ cache: a, row: 1 }, { cache: b, row: 0 }]);
    assert.deepEqual(merged.lengths, [1, 2]);
    assert.equal(merged.width, 2);
    // row 0 (a's row 1): one padding zero, then column 2 of a; row 1: b's two columns.
    assert.deepEqual(keys(merged), [0, 102, 0, 112, 0, 1, 10, 11]);
  });

  test('truncateSingle keeps the first positions of a one-row cache', () => {
    const cache = cacheOf([4], 4).truncateSingle(2);
    assert.deepEqual(cache.lengths, [2]);
    assert.deepEqual(keys(cache), [0, 1, 10, 11]);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import ort from 'onnxruntime-node';
import { ConcatKvCache } from '../src/kv-cache.ts';
import { CAPACITY_STEP, KvStore, SharedKvCache } from '../src/kv-cache-shared.ts';

const geometry = { layers: 1, heads: 2, headDim: 1 };

/** A cache whose value at (row, head, column) encodes those three numbers. */
function cacheOf(lengths: number[], width: number): ConcatKvCache {
  const data = new Float32Array(lengths.length * geometry.heads * width);
  lengths.forEach((_, r) => {
    for (let h = 0; h < geometry.heads; h++) for (let c = 0; c < width; c++) data[(r * geometry.heads + h) * width + c] = r * 100 + h * 10 + c;
  });
  const tensor = new ort.Tensor('float32', data, [lengths.length, geometry.heads, width, 1]);
  return ConcatKvCache.fromOutputs(geometry, { 'present.0.key': tensor, 'present.0.value': tensor }, lengths, width);
}

function keys(cache: ConcatKvCache): number[] {
  const feeds: Record<string, ort.Tensor> = {};
  cache.feeds(feeds);
  return Array.from(feeds['past_key_values.0.key'].data as Float32Array);
}

describe('KV cache rows', { timeout: 60_000 }, () => {
  test('gather right-aligns rows of different lengths and drops their padding', () => {
    const a = cacheOf([3, 1], 3); // row 1 has two padding columns
    const b = cacheOf([2], 2);
    const merged = ConcatKvCache.gather(geometry, [{ cache: a, row: 1 }, { cache: b, row: 0 }]);
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

describe('the shared (in-place) layout', { timeout: 10_000 }, () => {
  /** A store whose key at (row, head, position) is row * 100 + head * 10 + position for the first lengths[row] positions. */
  function sharedOf(lengths: number[], capacity = Math.max(...lengths)): SharedKvCache {
    const store = KvStore.allocate(geometry, lengths.length, capacity);
    lengths.forEach((length, r) => {
      for (let h = 0; h < geometry.heads; h++) {
        for (let c = 0; c < length; c++) store.buffers[0][(r * geometry.heads + h) * store.capacity + c] = r * 100 + h * 10 + c;
      }
    });
    return new SharedKvCache(geometry, lengths, store);
  }

  /** Per row and head, the first `length` keys: what a row holds, whatever the capacity. */
  function rowsOf(cache: SharedKvCache): number[][] {
    const { store } = cache;
    return cache.lengths.map((length, r) =>
      Array.from({ length: geometry.heads }, (_, h) => Array.from(store.buffers[0].subarray((r * geometry.heads + h) * store.capacity, (r * geometry.heads + h) * store.capacity + length))).flat(),
    );
  }

  test('capacity grows in steps, keeping every row', () => {
    const cache = sharedOf([3, 1]);
    assert.equal(cache.store.capacity, CAPACITY_STEP);
    const grown = cache.reserve(CAPACITY_STEP + 1);
    assert.equal(grown.store.capacity, 2 * CAPACITY_STEP);
    assert.notEqual(grown.store, cache.store);
    assert.deepEqual(rowsOf(grown), [[0, 1, 2, 10, 11, 12], [100, 110]]);
    assert.equal(cache.reserve(CAPACITY_STEP), cache, 'a cache with room is returned as it is');
  });

  test('the past and present tensors of a step are views of the first rows of one buffer', () => {
    const cache = sharedOf([3, 1, 2]);
    const tensors = cache.store.tensors(2);
    assert.equal(tensors.length, 2 * geometry.layers);
    assert.deepEqual(tensors[0].dims, [2, geometry.heads, cache.store.capacity, 1]);
    const data = tensors[0].data as Float32Array;
    assert.equal(data.buffer, cache.store.buffers[0].buffer);
    assert.equal(data.length, 2 * geometry.heads * cache.store.capacity);
  });

  test('gather copies the chosen rows, in order, into a new store with room for the next step', () => {
    const batch = sharedOf([3, 1, 2]);
    const joining = sharedOf([1]);
    const merged = SharedKvCache.gather(geometry, [{ cache: batch, row: 2 }, { cache: joining, row: 0 }, { cache: batch, row: 0 }]);
    assert.notEqual(merged.store, batch.store);
    assert.deepEqual(merged.lengths, [2, 1, 3]);
    assert.deepEqual(rowsOf(merged), [[200, 201, 210, 211], [0, 10], [0, 1, 2, 10, 11, 12]]);
    assert.ok(merged.store.rowCapacity >= 3 && merged.store.capacity > 3, 'room for three rows and one more position');
    assert.deepEqual(rowsOf(batch), [[0, 1, 2, 10, 11, 12], [100, 110], [200, 201, 210, 211]], 'the source is left as it was');
  });

  test('truncating keeps the first positions without copying', () => {
    const cache = sharedOf([4]);
    const cut = cache.truncateSingle(2);
    assert.equal(cut.store, cache.store);
    assert.deepEqual(rowsOf(cut), [[0, 1, 10, 11]]);
    assert.equal(cache.truncateSingle(9), cache);
  });
});

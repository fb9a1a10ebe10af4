// Key/value cache for graphs whose attention (com.microsoft GroupQueryAttention) writes the new
// positions into the past buffer when `present` is that same buffer: one buffer per layer and side,
// [rowCapacity, heads, capacity, headDim], where row r holds its `lengths[r]` positions at the start of
// its time axis (left-aligned; the attention mask's row sums tell the graph each row's length). A decode
// step then writes one position per row in place instead of concatenating past and present.
//
// A step writes past the rows' lengths in place and returns a cache over the same store with the new
// lengths; a truncation shares the store too: the cache given to either must not be stepped again.
import ort from 'onnxruntime-node';
import type { CacheGeometry, KvCache } from './kv-cache.ts';

/** Positions are allocated in multiples of this (each step's present output is copied out whole, so capacity stays near need). */
export const CAPACITY_STEP = 64;

const roundUp = (n: number, step: number) => Math.ceil(n / step) * step;

/** The buffers several caches may view in turn. */
export class KvStore {
  private constructor(
    readonly geometry: CacheGeometry,
    readonly rowCapacity: number,
    readonly capacity: number,
    /** 2 * layers buffers: layer l key at 2l, value at 2l + 1. */
    readonly buffers: Float32Array[],
  ) {}

  static allocate(geometry: CacheGeometry, rows: number, positions: number): KvStore {
    const capacity = roundUp(positions, CAPACITY_STEP);
    const size = rows * geometry.heads * capacity * geometry.headDim;
    return new KvStore(geometry, rows, capacity, Array.from({ length: 2 * geometry.layers }, () => new Float32Array(size)));
  }

  /** Bytes held by the buffers. */
  get bytes(): number {
    return this.buffers.reduce((n, b) => n + b.byteLength, 0);
  }

  private rowSpan(): number {
    return this.geometry.heads * this.capacity * this.geometry.headDim;
  }

  /** Copies the first `length` positions of `from`'s row `fromRow` into this store's row `toRow` (another store). */
  copyRow(from: KvStore, fromRow: number, toRow: number, length: number): void {
    const { heads, headDim } = this.geometry;
    const n = length * headDim;
    for (let i = 0; i < this.buffers.length; i++) {
      const src = from.buffers[i];
      const dst = this.buffers[i];
      for (let h = 0; h < heads; h++) {
        const s = (fromRow * heads + h) * from.capacity * headDim;
        dst.set(src.subarray(s, s + n), (toRow * heads + h) * this.capacity * headDim);
      }
    }
  }

  /** One tensor per buffer (layer l's key at 2l, value at 2l + 1) over the first `rows` rows, fed as past and fetched as present. */
  tensors(rows: number): ort.Tensor[] {
    const dims = [rows, this.geometry.heads, this.capacity, this.geometry.headDim];
    return this.buffers.map((buffer) => new ort.Tensor('float32', buffer.subarray(0, rows * this.rowSpan()), dims));
  }
}

export class SharedKvCache implements KvCache {
  constructor(
    readonly geometry: CacheGeometry,
    /** Per row: real positions held (the next token's position). */
    readonly lengths: number[],
    readonly store: KvStore,
  ) {}

  static empty(geometry: CacheGeometry, rows: number): SharedKvCache {
    return new SharedKvCache(geometry, new Array(rows).fill(0), KvStore.allocate(geometry, rows, 0));
  }

  get rows(): number {
    return this.lengths.length;
  }

  /**
   * A cache of the same rows with room for `positions` positions per row (the same one when it fits).
   * It grows by CAPACITY_STEP, not geometrically: every step copies the whole capacity out once more
   * (onnxruntime-node's fetched outputs), so spare room costs on every step, a regrowth only once.
   */
  reserve(positions: number): SharedKvCache {
    if (positions <= this.store.capacity) return this;
    const store = KvStore.allocate(this.geometry, this.store.rowCapacity, positions);
    this.lengths.forEach((length, row) => store.copyRow(this.store, row, row, length));
    return new SharedKvCache(this.geometry, this.lengths, store);
  }

  /** The cache after a step that added `added[r]` positions to row r (written in place by the run). */
  grown(added: number[]): SharedKvCache {
    return new SharedKvCache(this.geometry, this.lengths.map((length, r) => length + added[r]), this.store);
  }

  truncateSingle(keep: number): SharedKvCache {
    if (this.rows !== 1) throw new Error('truncateSingle needs a one-row cache');
    if (keep >= this.lengths[0]) return this;
    return new SharedKvCache(this.geometry, [keep], this.store);
  }

  /**
   * Row i of the result is row parts[i].row of parts[i].cache, copied into a new store with room for the
   * next decode step (rows join or leave the batch far less often than it steps; the given caches stay valid).
   */
  static gather(geometry: CacheGeometry, parts: Array<{ cache: SharedKvCache; row: number }>): SharedKvCache {
    const lengths = parts.map((p) => p.cache.lengths[p.row]);
    const store = KvStore.allocate(geometry, Math.max(parts.length, 1), Math.max(0, ...lengths) + 1);
    parts.forEach(({ cache, row }, to) => store.copyRow(cache.store, row, to, lengths[to]));
    return new SharedKvCache(geometry, lengths, store);
  }
}

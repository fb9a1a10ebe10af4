// Key/value caches for a batch of sequences. Two layouts, chosen by the graph (kv-cache-shared.ts has
// the other): here each step's `present.*` outputs become the next step's past. Each row is
// right-aligned: row r holds its `lengths[r]` real positions at the end of the time axis, and the
// columns before them are padding that the attention mask hides. Rows join and leave by copying into a
// new cache.
import ort from 'onnxruntime-node';

export interface CacheGeometry {
  layers: number;
  /** Key/value heads. */
  heads: number;
  headDim: number;
}

/** What the engine holds of a cache, whatever its layout. */
export interface KvCache {
  readonly geometry: CacheGeometry;
  /** Per row: real positions held (the next token's position id). */
  readonly lengths: number[];
  readonly rows: number;
  /** The cache of one row keeping only its first `keep` positions (an incremental prompt rolled back). */
  truncateSingle(keep: number): KvCache;
}

/** The past/present-concatenating layout: a cache is the `present.*` outputs of the step that made it. */
export class ConcatKvCache implements KvCache {
  private constructor(
    readonly geometry: CacheGeometry,
    /** Per row: real positions held (the next token's position id). */
    readonly lengths: number[],
    /** Columns of the time axis (the longest row). */
    readonly width: number,
    /** Per layer: [key, value], each [rows, heads, width, headDim]. */
    private readonly tensors: Float32Array[][],
  ) {}

  static empty(geometry: CacheGeometry, rows: number): ConcatKvCache {
    const tensors = Array.from({ length: geometry.layers }, () => [new Float32Array(0), new Float32Array(0)]);
    return new ConcatKvCache(geometry, new Array(rows).fill(0), 0, tensors);
  }

  /** Wraps the `present.*` outputs of a run whose past was `previous` and which added `added` columns. */
  static fromOutputs(geometry: CacheGeometry, outputs: ort.InferenceSession.OnnxValueMapType, lengths: number[], width: number): ConcatKvCache {
    const tensors: Float32Array[][] = [];
    for (let layer = 0; layer < geometry.layers; layer++) {
      tensors.push([
        outputs[`present.${layer}.key`].data as Float32Array,
        outputs[`present.${layer}.value`].data as Float32Array,
      ]);
    }
    return new ConcatKvCache(geometry, lengths, width, tensors);
  }

  /** Copies the given rows of several caches into one new cache, right-aligned. */
  static gather(geometry: CacheGeometry, parts: Array<{ cache: ConcatKvCache; row: number }>): ConcatKvCache {
    const lengths = parts.map((p) => p.cache.lengths[p.row]);
    const width = Math.max(0, ...lengths);
    const { heads, headDim } = geometry;
    const tensors: Float32Array[][] = [];
    for (let layer = 0; layer < geometry.layers; layer++) {
      const pair: Float32Array[] = [];
      for (let kv = 0; kv < 2; kv++) {
        const out = new Float32Array(parts.length * heads * width * headDim);
        parts.forEach(({ cache, row }, to) => {
          const src = cache.tensors[layer][kv];
          const len = lengths[to];
          for (let h = 0; h < heads; h++) {
            const srcStart = ((row * heads + h) * cache.width + (cache.width - len)) * headDim;
            const dstStart = ((to * heads + h) * width + (width - len)) * headDim;
            out.set(src.subarray(srcStart, srcStart + len * headDim), dstStart);
          }
        });
        pair.push(out);
      }
      tensors.push(pair);
    }
    return new ConcatKvCache(geometry, lengths, width, tensors);
  }

  get rows(): number {
    return this.lengths.length;
  }

  truncateSingle(keep: number): ConcatKvCache {
    if (this.rows !== 1) throw new Error('truncateSingle needs a one-row cache');
    if (keep >= this.lengths[0]) return this;
    const { heads, headDim } = this.geometry;
    const pad = this.width - this.lengths[0];
    const tensors = this.tensors.map((pair) =>
      pair.map((src) => {
        const out = new Float32Array(heads * keep * headDim);
        for (let h = 0; h < heads; h++) {
          const start = (h * this.width + pad) * headDim;
          out.set(src.subarray(start, start + keep * headDim), h * keep * headDim);
        }
        return out;
      }),
    );
    return new ConcatKvCache(this.geometry, [keep], keep, tensors);
  }

  /** The `past_key_values.*` feeds. */
  feeds(into: Record<string, ort.Tensor>): void {
    const dims = [this.rows, this.geometry.heads, this.width, this.geometry.headDim];
    for (let layer = 0; layer < this.geometry.layers; layer++) {
      into[`past_key_values.${layer}.key`] = new ort.Tensor('float32', this.tensors[layer][0], dims);
      into[`past_key_values.${layer}.value`] = new ort.Tensor('float32', this.tensors[layer][1], dims);
    }
  }
}

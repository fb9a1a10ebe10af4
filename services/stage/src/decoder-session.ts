// One ONNX decoder-with-past session: feeds new tokens for a batch of rows on top of their KV cache
// and returns each row's last logits and the grown cache. The cache layout follows the graph:
//   'concat'  the graph concatenates past and new keys/values into `present.*`, which become the next
//             past (rows right-aligned, left padding, explicit position_ids);
//   'shared'  GroupQueryAttention writes the new keys/values into the past buffer itself when
//             `present.*` is fetched into that same buffer (rows left-aligned, right padding, positions
//             from the mask's row sums).
import ort from 'onnxruntime-node';
import { ConcatKvCache, type CacheGeometry, type KvCache } from './kv-cache.ts';
import { SharedKvCache } from './kv-cache-shared.ts';

export type KvLayout = 'concat' | 'shared';

export interface SessionOptions {
  intraOpThreads: number;
  /** The artifact's cache layout for this graph (fslm.json `variants.<precision>.kv_cache`). */
  kvLayout: KvLayout;
  /**
   * With a path prefix, onnxruntime records every run and kernel (its Chrome-trace JSON, written by
   * endProfiling() as `<prefix>_<date>.json`). For profiling tools only: it slows every run.
   */
  profileFilePrefix?: string;
}

export interface StepOutput {
  /** Per row: logits of its last new position (a view into the run's output), when asked for. */
  logits: Float32Array[] | null;
  /** Per row: the arg-max token of its last new position, when the graph computes it. */
  nextTokens: number[] | null;
  /** With `allPositions`: per row, per new position, its logits row (views into the run's output). */
  positionLogits?: Float32Array[][];
  cache: KvCache;
}

/**
 * Optional graph output with the arg-max token id of every position ([batch, sequence], int64).
 * fslm's exporter adds it so that greedy decoding need not copy and scan a vocabulary of logits per row.
 */
export const NEXT_TOKEN_OUTPUT = 'next_token';

/** A run's inputs plus, per row, which new position is its last. */
interface PreparedStep {
  feeds: Record<string, ort.Tensor>;
  fetches: Record<string, ort.Tensor | null>;
  lastIndex: number[];
  seqLen: number;
  after(outputs: ort.InferenceSession.OnnxValueMapType): KvCache;
}

export class DecoderSession {
  /** Whether the graph has the `next_token` output. */
  readonly hasNextToken: boolean;
  private readonly presentNames: string[];
  private readonly takesPositions: boolean;
  /** Per cache buffer (layer l's key at 2l, value at 2l + 1): its past input and present output names. */
  private readonly sharedNames: Array<{ past: string; present: string }>;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly geometry: CacheGeometry,
    readonly vocabSize: number,
    readonly layout: KvLayout,
  ) {
    this.hasNextToken = session.outputNames.includes(NEXT_TOKEN_OUTPUT);
    this.presentNames = session.outputNames.filter((name) => name.startsWith('present.'));
    this.takesPositions = session.inputNames.includes('position_ids');
    this.sharedNames = Array.from({ length: 2 * geometry.layers }, (_, i) => {
      const suffix = `${i >> 1}.${i & 1 ? 'value' : 'key'}`;
      return { past: `past_key_values.${suffix}`, present: `present.${suffix}` };
    });
  }

  static async open(onnxPath: string, geometry: CacheGeometry, vocabSize: number, options: SessionOptions): Promise<DecoderSession> {
    const session = await ort.InferenceSession.create(onnxPath, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: 1,
      ...(options.profileFilePrefix ? { enableProfiling: true, profileFilePrefix: options.profileFilePrefix } : {}),
    });
    return new DecoderSession(session, geometry, vocabSize, options.kvLayout);
  }

  /** Ends onnxruntime's profiling (opened with `profileFilePrefix`) and writes its file. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  /** A cache of `rows` empty rows in this session's layout. */
  emptyCache(rows: number): KvCache {
    return this.layout === 'shared' ? SharedKvCache.empty(this.geometry, rows) : ConcatKvCache.empty(this.geometry, rows);
  }

  /** Row i of the result is row parts[i].row of parts[i].cache; the given caches must not be used afterwards. */
  gatherCache(parts: Array<{ cache: KvCache; row: number }>): KvCache {
    return this.layout === 'shared'
      ? SharedKvCache.gather(this.geometry, parts as Array<{ cache: SharedKvCache; row: number }>)
      : ConcatKvCache.gather(this.geometry, parts as Array<{ cache: ConcatKvCache; row: number }>);
  }

  /**
   * Runs `newIds[r]` for each row on top of `cache` (which must not be used afterwards). Rows with a
   * cache must all add the same number of tokens; rows of a fresh cache may differ (padded). On the
   * 'shared' layout (GroupQueryAttention) several rows on a cache add one token each.
   * `allPositions` also returns, per row, the logits of each of its new positions (scoring).
   */
  async run(cache: KvCache, newIds: number[][], wantLogits = true, allPositions = false): Promise<StepOutput> {
    const seqLen = Math.max(...newIds.map((ids) => ids.length));
    if (cache.lengths.some((n) => n > 0) && newIds.some((ids) => ids.length !== seqLen)) {
      throw new Error('rows with a cache must add the same number of tokens');
    }
    if (this.layout === 'shared' && newIds.length > 1 && seqLen > 1 && cache.lengths.some((n) => n > 0)) {
      // onnxruntime's GroupQueryAttention: "batch_size must be 1 when sequence_length > 1 and past context is given".
      throw new Error('a GroupQueryAttention graph takes several new tokens on top of a cache for one row only');
    }
    const step = this.layout === 'shared' ? this.prepareShared(cache as SharedKvCache, newIds, seqLen) : this.prepareConcat(cache as ConcatKvCache, newIds, seqLen);
    const fetchLogits = wantLogits || allPositions || !this.hasNextToken;
    step.fetches[fetchLogits ? 'logits' : NEXT_TOKEN_OUTPUT] = null;
    const outputs = await this.session.run(step.feeds, step.fetches);
    const rows = newIds.length;
    let logits: Float32Array[] | null = null;
    let nextTokens: number[] | null = null;
    let positionLogits: Float32Array[][] | undefined;
    if (fetchLogits) {
      const logitsData = outputs.logits.data as Float32Array;
      const vocab = outputs.logits.dims[2];
      const at = (r: number, column: number) => logitsData.subarray((r * seqLen + column) * vocab, (r * seqLen + column + 1) * vocab);
      logits = [];
      for (let r = 0; r < rows; r++) logits.push(at(r, step.lastIndex[r]));
      // Row r's new ids end at column lastIndex[r] (left padding) or start at 0 (right padding) alike.
      if (allPositions) positionLogits = newIds.map((ids, r) => ids.map((_, j) => at(r, step.lastIndex[r] - (ids.length - 1) + j)));
    } else {
      const ids = outputs[NEXT_TOKEN_OUTPUT].data as BigInt64Array;
      nextTokens = Array.from({ length: rows }, (_, r) => Number(ids[r * seqLen + step.lastIndex[r]]));
    }
    return { logits, nextTokens, positionLogits, cache: step.after(outputs) };
  }

  /** Left padding: row r's ids end at the last column; its past sits at the end of the cache's columns. */
  private prepareConcat(cache: ConcatKvCache, newIds: number[][], added: number): PreparedStep {
    const rows = newIds.length;
    const total = cache.width + added;
    const inputIds = new BigInt64Array(rows * added);
    const positions = new BigInt64Array(rows * added);
    const mask = new BigInt64Array(rows * total);
    const lengths: number[] = [];
    for (let r = 0; r < rows; r++) {
      const ids = newIds[r];
      const pad = added - ids.length;
      const past = cache.lengths[r];
      for (let j = 0; j < ids.length; j++) {
        inputIds[r * added + pad + j] = BigInt(ids[j]);
        positions[r * added + pad + j] = BigInt(past + j);
      }
      for (let c = cache.width - past; c < cache.width; c++) mask[r * total + c] = 1n;
      for (let c = cache.width + pad; c < total; c++) mask[r * total + c] = 1n;
      lengths.push(past + ids.length);
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', inputIds, [rows, added]),
      attention_mask: new ort.Tensor('int64', mask, [rows, total]),
    };
    if (this.takesPositions) feeds.position_ids = new ort.Tensor('int64', positions, [rows, added]);
    cache.feeds(feeds);
    const fetches: Record<string, ort.Tensor | null> = Object.fromEntries(this.presentNames.map((name) => [name, null]));
    return {
      feeds, fetches, seqLen: added, lastIndex: new Array(rows).fill(added - 1),
      after: (outputs) => ConcatKvCache.fromOutputs(this.geometry, outputs, lengths, total),
    };
  }

  /**
   * Right padding: row r's ids start at column 0 and its mask covers its past plus its new ids. Past
   * and present are the same tensors over the cache's buffers, so the graph writes the new positions
   * in place (onnxruntime-node still copies each fetched present into a new ArrayBuffer, which is dropped).
   */
  private prepareShared(cache: SharedKvCache, newIds: number[][], seqLen: number): PreparedStep {
    const rows = newIds.length;
    const added = newIds.map((ids) => ids.length);
    const totals = cache.lengths.map((n, r) => n + added[r]);
    const width = Math.max(...totals);
    const sized = cache.reserve(width);
    const inputIds = new BigInt64Array(rows * seqLen);
    const positions = new BigInt64Array(rows * seqLen);
    const mask = new BigInt64Array(rows * width);
    for (let r = 0; r < rows; r++) {
      newIds[r].forEach((id, j) => {
        inputIds[r * seqLen + j] = BigInt(id);
        positions[r * seqLen + j] = BigInt(cache.lengths[r] + j);
      });
      mask.fill(1n, r * width, r * width + totals[r]);
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', inputIds, [rows, seqLen]),
      attention_mask: new ort.Tensor('int64', mask, [rows, width]),
    };
    if (this.takesPositions) feeds.position_ids = new ort.Tensor('int64', positions, [rows, seqLen]);
    const fetches: Record<string, ort.Tensor | null> = {};
    sized.store.tensors(rows).forEach((tensor, i) => {
      feeds[this.sharedNames[i].past] = tensor;
      fetches[this.sharedNames[i].present] = tensor;
    });
    return { feeds, fetches, seqLen, lastIndex: added.map((n) => n - 1), after: () => sized.grown(added) };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

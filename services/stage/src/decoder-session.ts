// One ONNX decoder-with-past session: feeds new tokens for a batch of rows on top of their KV cache
// and returns each row's last logits and the grown cache.
import ort from 'onnxruntime-node';
import { KvCache, type CacheGeometry } from './kv-cache.ts';

export interface SessionOptions {
  intraOpThreads: number;
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

export class DecoderSession {
  /** Whether the graph has the `next_token` output. */
  readonly hasNextToken: boolean;
  private readonly presentNames: string[];

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly geometry: CacheGeometry,
    readonly vocabSize: number,
  ) {
    this.hasNextToken = session.outputNames.includes(NEXT_TOKEN_OUTPUT);
    this.presentNames = session.outputNames.filter((name) => name.startsWith('present.'));
  }

  static async open(onnxPath: string, geometry: CacheGeometry, vocabSize: number, options: SessionOptions): Promise<DecoderSession> {
    const session = await ort.InferenceSession.create(onnxPath, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: 1,
    });
    return new DecoderSession(session, geometry, vocabSize);
  }

  /**
   * Runs `newIds[r]` for each row on top of `cache`. Rows of different lengths are left-padded,
   * which keeps rows right-aligned only when the cache is empty or all rows add the same count.
   * `allPositions` also returns the logits of every new position (scoring).
   */
  async run(cache: KvCache, newIds: number[][], wantLogits = true, allPositions = false): Promise<StepOutput> {
    const rows = newIds.length;
    const added = Math.max(...newIds.map((ids) => ids.length));
    if (cache.width > 0 && newIds.some((ids) => ids.length !== added)) {
      throw new Error('rows with a cache must add the same number of tokens');
    }
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
      position_ids: new ort.Tensor('int64', positions, [rows, added]),
    };
    cache.feeds(feeds);
    const fetchLogits = wantLogits || allPositions || !this.hasNextToken;
    const fetches = [...this.presentNames, fetchLogits ? 'logits' : NEXT_TOKEN_OUTPUT];
    const outputs = await this.session.run(feeds, fetches);
    let logits: Float32Array[] | null = null;
    let nextTokens: number[] | null = null;
    let positionLogits: Float32Array[][] | undefined;
    if (fetchLogits) {
      const logitsData = outputs.logits.data as Float32Array;
      const [, seq, vocab] = outputs.logits.dims;
      const at = (r: number, j: number) => logitsData.subarray((r * seq + j) * vocab, (r * seq + j + 1) * vocab);
      logits = [];
      for (let r = 0; r < rows; r++) logits.push(at(r, seq - 1));
      if (allPositions) positionLogits = Array.from({ length: rows }, (_, r) => Array.from({ length: seq }, (_, j) => at(r, j)));
    } else {
      const ids = outputs[NEXT_TOKEN_OUTPUT].data as BigInt64Array;
      const seq = outputs[NEXT_TOKEN_OUTPUT].dims[1];
      nextTokens = Array.from({ length: rows }, (_, r) => Number(ids[r * seq + seq - 1]));
    }
    return { logits, nextTokens, positionLogits, cache: KvCache.fromOutputs(this.geometry, outputs, lengths, total) };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

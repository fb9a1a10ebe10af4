// The decode batch: the rows decoded together, one token each per step, over one KV cache (its layout
// is the session's). A failure is kept to the request it belongs to: a row whose token handling throws fails
// alone, and a batched run that fails is retried row by row so that only rows failing alone fail.
import { errorMessage, errors } from '../../shared/errors.ts';
import type { DecoderSession, StepOutput } from './decoder-session.ts';
import type { KvCache } from './kv-cache.ts';
import type { Sequence } from './sequence.ts';

/** Feeds one row's output to its sequence; a throw fails that sequence only. Returns whether a token was taken. */
export function acceptInto(seq: Sequence, out: StepOutput, row: number): boolean {
  try {
    if (out.logits) seq.accept(out.logits[row]);
    else seq.acceptToken(out.nextTokens![row]);
    return true;
  } catch (error) {
    seq.fail(errors.internal(`request ${seq.requestId} failed: ${errorMessage(error)}`, error));
    return false;
  }
}

/** The rows being decoded and their shared KV cache (owned by the engine's loop). */
export class DecodeBatch {
  rows: Sequence[] = [];
  private cache: KvCache | null = null;

  constructor(private readonly session: DecoderSession) {}

  /** KV-cache rows held and the positions in them. */
  get held(): { rows: number; positions: number } {
    const cache = this.cache;
    return { rows: cache?.rows ?? 0, positions: cache ? cache.lengths.reduce((a, b) => a + b, 0) : 0 };
  }

  /** Adds prefilled sequences (each with its own cache row) to the batch. */
  join(joining: Sequence[]): void {
    if (joining.length === 0) return;
    if (this.rows.length === 0 && joining.length === 1 && joining[0].cache!.rows === 1) {
      this.cache = joining[0].cache;
    } else {
      const parts = this.rows.map((_, row) => ({ cache: this.cache!, row }));
      for (const seq of joining) parts.push({ cache: seq.cache!, row: seq.cacheRow });
      this.cache = this.session.gatherCache(parts);
    }
    for (const seq of joining) seq.cache = null;
    this.rows.push(...joining);
  }

  /** Removes rows whose request has ended (finished, failed, aborted). */
  compact(): void {
    const keep: number[] = [];
    this.rows.forEach((seq, row) => {
      if (!seq.ended) keep.push(row);
    });
    if (keep.length === this.rows.length) return;
    const cache = this.cache!;
    this.cache = keep.length === 0 ? null : this.session.gatherCache(keep.map((row) => ({ cache, row })));
    this.rows = keep.map((row) => this.rows[row]);
  }

  /** One decode step for every row; returns the tokens taken. */
  async step(): Promise<number> {
    const rows = this.rows;
    let out: StepOutput;
    try {
      out = await this.session.run(this.cache!, rows.map((seq) => [seq.lastToken]), rows.some((s) => s.needsLogits));
    } catch (error) {
      return this.stepRowsAlone(error);
    }
    this.cache = out.cache;
    let taken = 0;
    rows.forEach((seq, row) => {
      if (!seq.ended && acceptInto(seq, out, row)) taken++;
    });
    this.compact();
    return taken;
  }

  /** Fails every row (the engine is stopping, or its state cannot be trusted). */
  failAll(error: unknown): void {
    for (const seq of this.rows) seq.fail(error);
    this.rows = [];
    this.cache = null;
  }

  /** After a failed batched run: each row runs alone, and only a row that fails alone fails. */
  private async stepRowsAlone(batchError: unknown): Promise<number> {
    const cache = this.cache!;
    const survivors: Array<{ seq: Sequence; out: StepOutput }> = [];
    for (const [row, seq] of this.rows.entries()) {
      if (seq.ended) continue;
      try {
        const own = this.session.gatherCache([{ cache, row }]);
        survivors.push({ seq, out: await this.session.run(own, [[seq.lastToken]], seq.needsLogits) });
      } catch (error) {
        seq.fail(errors.internal(`inference failed for request ${seq.requestId}: ${errorMessage(error)} (batched step: ${errorMessage(batchError)})`, error));
      }
    }
    this.rows = survivors.map((s) => s.seq);
    this.cache = survivors.length === 0 ? null : this.session.gatherCache(survivors.map((s) => ({ cache: s.out.cache, row: 0 })));
    let taken = 0;
    survivors.forEach(({ seq, out }) => {
      if (acceptInto(seq, out, 0)) taken++;
    });
    this.compact();
    return taken;
  }
}

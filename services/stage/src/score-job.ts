// One Score request inside the engine: its prompt is prefilled in chunks like a request's (one run per
// engine step), then its continuations run together on copies of the prompt's KV cache, as many rows
// at once as one prefill chunk holds, and each continuation token's log-probability is read from the
// logits of the position before it. A request that ends (abort, deadline) leaves before the next run.
import { FslmError, errorMessage, errors } from '../../shared/errors.ts';
import type { DecoderSession } from './decoder-session.ts';
import type { KvCache } from './kv-cache.ts';
import { tokenLogprob, type TokenText } from './logprobs.ts';
import { prefillSpan } from './prefill-span.ts';
import { argmax } from './sampler.ts';
import type { ContinuationScore, ScoreResult, TokenLogprob } from './types.ts';

/** Continuations scored together: copies of the prompt's cache, grown a piece at a time. */
interface Group {
  /** Indices into the job's continuations. */
  members: number[];
  /** The tokens each row feeds: a continuation but its last token, padded on the right to `width`. */
  feeds: number[][];
  width: number;
  /** Columns of `feeds` run so far. */
  done: number;
  cache: KvCache;
  /**
   * 1 when each row first feeds the prompt's last token again (on the prompt's cache less that position),
   * else 0. Graphs with GroupQueryAttention (the 'shared' cache layout) take several new tokens on top of
   * a cache only for one row, and compute a lone new token with another kernel than a prefill: their
   * continuations run one at a time, at least two tokens per run, as a one-pass prefill would see them.
   */
  lead: number;
}

export class ScoreJob {
  /** Settled once the request has finished or failed. */
  ended = false;
  private cache: KvCache | null = null;
  /** Prompt positions in `cache`. */
  private prefilled = 0;
  private nextContinuation = 0;
  private group: Group | null = null;
  private readonly tokens: TokenLogprob[][];
  /** Per continuation: every token so far was the most likely one at its position. */
  private readonly greedy: boolean[];
  private readonly enqueuedAt = performance.now();
  private startedAt = 0;
  private prefilledAt = 0;
  readonly done: Promise<ScoreResult>;
  private resolveDone!: (result: ScoreResult) => void;
  private rejectDone!: (error: unknown) => void;

  constructor(
    readonly requestId: string,
    readonly promptIds: readonly number[],
    /** Token ids of each continuation (none empty). */
    readonly continuations: readonly number[][],
    private readonly topLogprobs: number,
    private readonly tokenText: TokenText,
    private readonly signal?: AbortSignal,
  ) {
    this.tokens = continuations.map(() => []);
    this.greedy = continuations.map(() => true);
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
  }

  /** KV-cache rows and positions held now. */
  get held(): { rows: number; positions: number } {
    const group = this.group?.cache;
    if (group) return { rows: group.rows, positions: group.lengths.reduce((a, b) => a + b, 0) };
    return this.cache ? { rows: 1, positions: this.cache.lengths[0] } : { rows: 0, positions: 0 };
  }

  /** Fails the job when its caller aborted; true if it did (or it had ended already). */
  checkAborted(): boolean {
    if (this.ended) return true;
    if (!this.signal?.aborted) return false;
    const reason = this.signal.reason;
    this.fail(reason instanceof FslmError ? reason : errors.cancelled());
    return true;
  }

  /**
   * At most one model run: the next prompt chunk, or the next piece of continuations. `chunk` bounds
   * the tokens one run takes. Returns whether the model ran.
   */
  async step(session: DecoderSession, chunk: number): Promise<boolean> {
    if (this.ended) return false;
    if (this.startedAt === 0) this.startedAt = performance.now();
    try {
      if (this.prefilled < this.promptIds.length) await this.prefillChunk(session, chunk);
      else return await this.continuationStep(session, chunk);
    } catch (error) {
      this.fail(error instanceof FslmError ? error : errors.internal(`scoring failed for request ${this.requestId}: ${errorMessage(error)}`, error));
    }
    return true;
  }

  /** Ends the job with an error. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.release();
    this.rejectDone(error);
  }

  private release(): void {
    this.cache = null;
    this.group = null;
  }

  private async prefillChunk(session: DecoderSession, chunk: number): Promise<void> {
    // Cut as every prompt is (prefill-span.ts): no lone token on top of the cache.
    const span = prefillSpan(this.prefilled, this.promptIds.length, chunk);
    let cache = this.cache ?? session.emptyCache(1);
    if (span.from < this.prefilled) cache = span.from > 0 ? cache.truncateSingle(span.from) : session.emptyCache(1);
    const last = span.to === this.promptIds.length;
    const out = await session.run(cache, [this.promptIds.slice(span.from, span.to)], last);
    if (this.ended) return;
    this.cache = out.cache;
    this.prefilled = span.to;
    if (!last) return;
    this.prefilledAt = performance.now();
    // Every continuation's first token is read from the logits of the prompt's last position.
    const logits = out.logits![0];
    this.continuations.forEach((ids, i) => this.record(i, logits, ids[0]));
    if (this.continuations.every((ids) => ids.length === 1)) this.finish();
  }

  private async continuationStep(session: DecoderSession, chunk: number): Promise<boolean> {
    const group = this.group ?? this.nextGroup(session, chunk);
    if (!group) {
      this.finish();
      return false;
    }
    this.group = group;
    const columns = runColumns(group, chunk);
    const feeds = group.feeds.map((ids) => ids.slice(group.done, group.done + columns));
    const out = await session.run(group.cache, feeds, false, true);
    if (this.ended) return true;
    group.members.forEach((index, row) => {
      const ids = this.continuations[index];
      feeds[row].forEach((_, j) => {
        // Column c's logits predict continuation token c + 1 - lead (token 0 came from the prompt's prefill).
        const next = group.done + j + 1 - group.lead;
        if (next >= 1 && next < ids.length) this.record(index, out.positionLogits![row][j], ids[next]);
      });
    });
    group.cache = out.cache;
    group.done += feeds[0].length;
    if (group.done >= group.width) {
      this.group = null;
      if (this.continuations.slice(this.nextContinuation).every((ids) => ids.length === 1)) this.finish();
    }
    return true;
  }

  /** The next continuations to run together (those with more than one token), as many as `chunk` holds. */
  private nextGroup(session: DecoderSession, chunk: number): Group | null {
    const members: number[] = [];
    const lead = session.layout === 'shared' ? 1 : 0;
    let width = 0;
    while (this.nextContinuation < this.continuations.length) {
      const index = this.nextContinuation;
      const need = this.continuations[index].length - 1;
      if (need === 0) {
        this.nextContinuation++;
        continue;
      }
      const next = Math.max(width, need);
      if (members.length > 0 && (lead === 1 || next * (members.length + 1) > chunk)) break;
      members.push(index);
      width = next;
      this.nextContinuation++;
    }
    if (members.length === 0) return null;
    const last = this.promptIds[this.promptIds.length - 1];
    const feeds = members.map((index) => {
      const ids = [...(lead ? [last] : []), ...this.continuations[index].slice(0, -1)];
      // Right padding: a causal model's earlier positions never see it.
      while (ids.length < width + lead) ids.push(ids[ids.length - 1]);
      return ids;
    });
    let cache = session.gatherCache(members.map(() => ({ cache: this.cache!, row: 0 })));
    if (lead) cache = cache.truncateSingle(this.promptIds.length - 1);
    return { members, feeds, width: width + lead, done: 0, cache, lead };
  }

  /** Continuation `index`'s next token, `token`, at a position whose logits are `row`. */
  private record(index: number, row: Float32Array, token: number): void {
    this.tokens[index].push(tokenLogprob(row, token, this.topLogprobs, this.tokenText));
    if (argmax(row) !== token) this.greedy[index] = false;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    const now = performance.now();
    const started = this.startedAt || now;
    const prefilled = this.prefilledAt || now;
    const continuations: ContinuationScore[] = this.tokens.map((tokens, i) => (
      { tokens, logprob: tokens.reduce((sum, t) => sum + t.logprob, 0), greedy: this.greedy[i] }
    ));
    this.release();
    this.resolveDone({
      requestId: this.requestId,
      continuations,
      promptTokens: this.promptIds.length,
      timings: { queueMs: started - this.enqueuedAt, prefillMs: prefilled - started, firstTokenMs: 0, decodeMs: now - prefilled, totalMs: now - this.enqueuedAt },
    });
  }
}

/**
 * Columns of `group` to run next: a prefill chunk shared by its rows; with `lead`, at least two and never
 * leaving a single one for the last run (see Group.lead).
 */
function runColumns(group: Group, chunk: number): number {
  const columns = Math.max(1, Math.floor(chunk / group.members.length));
  if (!group.lead) return columns;
  const left = group.width - group.done;
  let take = Math.min(Math.max(2, columns), left);
  if (left - take === 1) take = take > 2 ? take - 1 : take + 1;
  return take;
}

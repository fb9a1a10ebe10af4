// A prompt that arrives in pieces (stage k's text streaming into stage k+1). The part of the text that
// can no longer change its tokens is prefilled into a one-row KV cache while the rest is still coming,
// one chunk per engine step, never a lone token on top of the cache (prefill-span.ts). The prompt is
// held to the engine's limits as it grows: once it cannot fit it is refused and its cache dropped at once.
import { errors, errorMessage, type FslmError } from '../../shared/errors.ts';
import type { DecoderSession } from './decoder-session.ts';
import type { KvCache } from './kv-cache.ts';
import { minAheadRun, prefillSpan } from './prefill-span.ts';
import { joinPieces, slicePieces } from './prompt-pieces.ts';
import type { CacheDonor } from './sequence.ts';
import type { GenerateCallbacks, GenerateResult, IncrementalPrompt, PromptPiece, SamplingOptions } from './types.ts';

export interface IncrementalPromptHost {
  encode(pieces: readonly PromptPiece[], addSpecialTokens: boolean): number[];
  /** The refusal for a prompt with at least this many tokens, or null while it fits. */
  partialLimitError(tokens: number, maxNewTokens: number): FslmError | null;
  scheduleExtension(prompt: IncrementalPromptImpl): void;
  /** The prompt no longer counts against admission (started, discarded or refused). */
  release(prompt: IncrementalPromptImpl): void;
  startSequence(prompt: IncrementalPromptImpl, ids: number[], sampling: SamplingOptions, callbacks: GenerateCallbacks): Promise<GenerateResult>;
}

/** Length of the longest common prefix of two id lists. */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export type PromptState = 'open' | 'started' | 'discarded' | 'refused';

export class IncrementalPromptImpl implements IncrementalPrompt, CacheDonor {
  private pieces: PromptPiece[] = [];
  private cache: KvCache | null = null;
  private cachedIds: number[] = [];
  /** The stable ids to prefill (recomputed when text arrives). */
  private target: number[] | null = null;
  private refusal: FslmError | null = null;
  state: PromptState = 'open';
  /** Positions prefilled ahead of start(), for the hand-off metrics. */
  prefilledAhead = 0;

  constructor(
    readonly requestId: string,
    private readonly addSpecialTokens: boolean,
    private readonly maxNewTokens: number,
    private readonly host: IncrementalPromptHost,
    private readonly onRefused: ((error: FslmError) => void) | undefined,
  ) {}

  /** KV-cache positions this prompt holds. */
  get heldPositions(): number {
    return this.cache?.lengths[0] ?? 0;
  }

  append(more: string | readonly PromptPiece[]): void {
    const pieces = typeof more === 'string' ? [{ text: more, markup: false }] : more.filter((p) => p.text.length > 0);
    if (this.state !== 'open' || pieces.length === 0) return;
    this.pieces.push(...pieces);
    this.target = null;
    this.host.scheduleExtension(this);
  }

  start(rest: PromptPiece[], sampling: SamplingOptions, callbacks: GenerateCallbacks = {}): Promise<GenerateResult> {
    if (this.state === 'refused') return Promise.reject(this.refusal);
    if (this.state !== 'open') return Promise.reject(errors.failedPrecondition(`prompt ${this.requestId} was already ${this.state}`));
    this.state = 'started';
    this.pieces.push(...rest);
    try {
      return this.host.startSequence(this, this.host.encode(this.pieces, this.addSpecialTokens), sampling, callbacks);
    } catch (error) {
      this.cache = null;
      this.host.release(this);
      return Promise.reject(error);
    }
  }

  discard(): void {
    if (this.state !== 'open') return;
    this.state = 'discarded';
    this.drop();
  }

  /**
   * Drops the prompt with an error (limits, admission, engine stopping) at once; start() then rejects
   * with it. The onRefused listener hears of it in a microtask.
   */
  refuse(error: FslmError): void {
    if (this.state !== 'open') return;
    this.state = 'refused';
    this.refusal = error;
    this.drop();
    queueMicrotask(() => {
      try {
        this.onRefused?.(error);
      } catch (callbackError) {
        // The listener's failure must not reach the engine's loop; the refusal stands.
        console.error(`fslm stage: onRefused listener of ${this.requestId} threw: ${errorMessage(callbackError)}`);
      }
    });
  }

  /**
   * Called by the engine's loop: checks the stable text against the limits (refusing the prompt when
   * it can no longer fit) and prefills one chunk of it. `ran`: a run took place; `more`: more is left.
   */
  async extendStep(session: DecoderSession, chunk: number): Promise<{ ran: boolean; more: boolean }> {
    const idle = { ran: false, more: false };
    if (this.state !== 'open') return idle;
    if (this.target === null) {
      const ids = this.stableIds();
      const error = this.host.partialLimitError(ids.length, this.maxNewTokens);
      if (error) {
        this.refuse(error);
        return idle;
      }
      const keep = commonPrefixLength(this.cachedIds, ids);
      if (keep < this.cachedIds.length) {
        this.cache = keep > 0 && this.cache ? this.cache.truncateSingle(keep) : null;
        this.cachedIds = this.cachedIds.slice(0, keep);
      }
      this.target = ids;
    }
    const target = this.target;
    const from = this.cachedIds.length;
    // A lone token is not run on top of the cache (prefill-span.ts): it waits for more text or start().
    if (target.length - from < minAheadRun(chunk)) return idle;
    const span = prefillSpan(from, target.length, chunk);
    const piece = target.slice(from, span.to);
    const out = await session.run(this.cache ?? session.emptyCache(1), [piece], false);
    // Discarded, refused or grown differently while the chunk ran: its result is not wanted.
    if (this.state !== 'open' || this.target !== target) return { ran: true, more: this.state === 'open' };
    this.cache = out.cache;
    this.cachedIds = target.slice(0, from + piece.length);
    this.prefilledAhead = this.cachedIds.length;
    return { ran: true, more: this.cachedIds.length < target.length };
  }

  takeCache(promptIds: readonly number[]): KvCache | null {
    const keep = commonPrefixLength(this.cachedIds, promptIds);
    const cache = this.cache && keep > 0 ? this.cache.truncateSingle(keep) : null;
    this.cache = null;
    this.cachedIds = [];
    return cache;
  }

  private drop(): void {
    this.cache = null;
    this.cachedIds = [];
    this.target = null;
    this.host.release(this);
  }

  /**
   * Ids that more text cannot change: the text up to its last whitespace, less its last token
   * (a pre-token may still merge with what follows).
   */
  private stableIds(): number[] {
    const text = joinPieces(this.pieces);
    const cut = Math.max(text.lastIndexOf(' '), text.lastIndexOf('\n'));
    if (cut <= 0) return [];
    return this.host.encode(slicePieces(this.pieces, cut), this.addSpecialTokens).slice(0, -1);
  }
}

// One request inside the engine: its prompt ids, sampler, streamed text and how it finishes.
import { FslmError, ErrorCode, errorMessage, errors } from '../../shared/errors.ts';
import type { KvCache } from './kv-cache.ts';
import { tokenLogprob, type TokenText } from './logprobs.ts';
import { Sampler } from './sampler.ts';
import { StopMatcher } from './stop-matcher.ts';
import { TextStream, type DecodeIds } from './text-stream.ts';
import { FinishReason, type GenerateCallbacks, type GenerateResult, type SamplingOptions, type TokenLogprob } from './types.ts';

export interface SequenceLimits {
  eosTokenIds: readonly number[];
  /** Text of one token id, for log-probabilities. */
  tokenText: TokenText;
}

export interface CacheDonor {
  takeCache(promptIds: readonly number[]): KvCache | null;
}

export class Sequence {
  readonly generated: number[] = [];
  /** Own cache while the prompt is prefilled; null once the sequence is a row of the decode batch. */
  cache: KvCache | null;
  /** Which row of `cache` is this sequence's (prefill runs several prompts as one batch). */
  cacheRow = 0;
  /** An incremental prompt whose cache this sequence takes over when its prefill starts. */
  adoptCacheFrom: CacheDonor | null = null;
  finishReason: FinishReason | null = null;
  /** Set once the request's promise is settled (finished or failed). */
  private settled = false;
  private readonly sampler: Sampler;
  private readonly textStream: TextStream;
  private readonly stopMatcher: StopMatcher;
  private text = '';
  private deltaSeq = 0;
  private tokensNotYetReported = 0;
  /** With sampling.logprobs: one entry per generated token; the first `logprobsReported` went out in deltas. */
  private readonly logprobs: TokenLogprob[] | null;
  private logprobsReported = 0;
  private readonly enqueuedAt = performance.now();
  private prefillStartedAt = 0;
  private firstTokenAt = 0;
  private finishedAt = 0;
  readonly done: Promise<GenerateResult>;
  private resolveDone!: (result: GenerateResult) => void;
  private rejectDone!: (error: unknown) => void;

  constructor(
    readonly requestId: string,
    readonly promptIds: number[],
    readonly sampling: SamplingOptions,
    readonly callbacks: GenerateCallbacks,
    private readonly limits: SequenceLimits,
    decode: DecodeIds,
    cache: KvCache | null = null,
  ) {
    this.cache = cache;
    this.sampler = new Sampler(sampling, promptIds);
    this.textStream = new TextStream(decode);
    this.stopMatcher = new StopMatcher(sampling.stop);
    this.logprobs = sampling.logprobs ? [] : null;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
  }

  /** Takes the donor's cache, rolled back to the longest prefix it shares with this prompt. */
  adoptCache(): void {
    if (!this.adoptCacheFrom) return;
    this.cache = this.adoptCacheFrom.takeCache(this.promptIds);
    this.adoptCacheFrom = null;
  }

  get prefillStarted(): boolean {
    return this.prefillStartedAt !== 0;
  }

  markPrefillStart(): void {
    if (this.prefillStartedAt === 0) this.prefillStartedAt = performance.now();
  }

  /** Finishes a sequence whose caller aborted; true if it did. */
  checkAborted(): boolean {
    const signal = this.callbacks.signal;
    if (!signal?.aborted || this.settled) return false;
    const reason = signal.reason;
    const deadline = reason instanceof FslmError && reason.code === ErrorCode.DeadlineExceeded;
    this.finish(deadline ? FinishReason.Deadline : FinishReason.Cancelled);
    return true;
  }

  /** Whether choosing this sequence's next token needs the logits (not just the arg-max). */
  get needsLogits(): boolean {
    const s = this.sampling;
    return s.temperature > 0 || s.repetitionPenalty !== 1 || s.logprobs === true || this.callbacks.onLogits !== undefined;
  }

  /** Samples the next token from a logits row and streams its text (and its log-probability when asked). */
  accept(logits: Float32Array): void {
    this.callbacks.onLogits?.(Float32Array.from(logits));
    if (!this.logprobs) {
      this.acceptToken(this.sampler.pick(logits));
      return;
    }
    const row = Float32Array.from(logits);
    const token = this.sampler.pick(logits);
    this.logprobs.push(tokenLogprob(row, token, this.sampling.topLogprobs ?? 0, this.limits.tokenText));
    this.acceptToken(token);
  }

  /** Streams a chosen token's text and decides whether the sequence is done. */
  acceptToken(token: number): void {
    if (this.generated.length === 0) this.firstTokenAt = performance.now();
    this.generated.push(token);
    if (!this.sampling.ignoreEos && this.limits.eosTokenIds.includes(token)) {
      this.finish(FinishReason.Eos);
      return;
    }
    const { emit, stopped } = this.stopMatcher.push(this.textStream.push(token));
    this.emit(emit, 1);
    if (stopped) this.finish(FinishReason.Stop);
    else if (this.generated.length >= this.sampling.maxNewTokens) this.finish(FinishReason.Length);
  }

  /** Whether the request's promise is settled (its row can go). */
  get ended(): boolean {
    return this.settled;
  }

  get lastToken(): number {
    return this.generated[this.generated.length - 1];
  }

  /** Ends the sequence with a result; if streaming its last text fails, it fails instead (never left unsettled). */
  finish(reason: FinishReason): void {
    if (this.settled) return;
    this.finishReason = reason;
    this.finishedAt = performance.now();
    this.cache = null;
    try {
      if (reason !== FinishReason.Stop) this.emit(this.stopMatcher.push(this.textStream.flush()).emit + this.stopMatcher.flush(), 0);
    } catch (error) {
      this.fail(errors.internal(`request ${this.requestId} failed: ${errorMessage(error)}`, error));
      return;
    }
    this.settled = true;
    const start = this.prefillStartedAt || this.finishedAt;
    const first = this.firstTokenAt || this.finishedAt;
    this.resolveDone({
      requestId: this.requestId,
      text: this.text,
      tokenIds: this.generated,
      finishReason: reason,
      promptTokens: this.promptIds.length,
      completionTokens: this.generated.length,
      timings: {
        queueMs: start - this.enqueuedAt,
        prefillMs: first - start,
        firstTokenMs: first - this.enqueuedAt,
        decodeMs: this.finishedAt - first,
        totalMs: this.finishedAt - this.enqueuedAt,
      },
      ...(this.logprobs ? { logprobs: this.logprobs } : {}),
    });
  }

  /** Ends the sequence with an error (the engine could not run it). */
  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.finishReason ??= FinishReason.Cancelled;
    this.cache = null;
    this.rejectDone(error);
  }

  private emit(text: string, added: number): void {
    this.tokensNotYetReported += added;
    if (text.length === 0) return;
    this.text += text;
    const tokens = this.tokensNotYetReported;
    let logprobs: TokenLogprob[] | undefined;
    if (this.logprobs) {
      logprobs = this.logprobs.slice(this.logprobsReported, this.logprobsReported + tokens);
      this.logprobsReported += tokens;
    }
    this.callbacks.onDelta?.({ seq: this.deltaSeq++, text, tokens, ...(logprobs ? { logprobs } : {}) });
    this.tokensNotYetReported = 0;
  }
}

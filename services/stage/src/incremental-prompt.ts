// A prompt that arrives in pieces (stage k's text streaming into stage k+1). The part of the text that
// can no longer change its tokens is prefilled into a one-row KV cache while the rest is still coming.
import type { KvCache } from './kv-cache.ts';
import type { DecoderSession } from './decoder-session.ts';
import type { CacheDonor } from './sequence.ts';
import type { GenerateCallbacks, GenerateResult, IncrementalPrompt, SamplingOptions } from './types.ts';

export interface IncrementalPromptHost {
  encode(text: string, addSpecialTokens: boolean): number[];
  scheduleExtension(prompt: IncrementalPromptImpl): void;
  cancelExtension(prompt: IncrementalPromptImpl): void;
  startSequence(prompt: IncrementalPromptImpl, ids: number[], sampling: SamplingOptions, callbacks: GenerateCallbacks): Promise<GenerateResult>;
}

/** Length of the longest common prefix of two id lists. */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class IncrementalPromptImpl implements IncrementalPrompt, CacheDonor {
  private text = '';
  private cache: KvCache | null = null;
  private cachedIds: number[] = [];
  private state: 'open' | 'started' | 'discarded' = 'open';
  /** Positions prefilled ahead of start(), for the hand-off metrics. */
  prefilledAhead = 0;

  constructor(
    readonly requestId: string,
    private readonly addSpecialTokens: boolean,
    private readonly host: IncrementalPromptHost,
  ) {}

  append(text: string): void {
    if (this.state !== 'open' || text.length === 0) return;
    this.text += text;
    this.host.scheduleExtension(this);
  }

  start(rest: string, sampling: SamplingOptions, callbacks: GenerateCallbacks = {}): Promise<GenerateResult> {
    if (this.state !== 'open') return Promise.reject(new Error(`prompt ${this.requestId} was already ${this.state}`));
    this.state = 'started';
    this.text += rest;
    try {
      return this.host.startSequence(this, this.host.encode(this.text, this.addSpecialTokens), sampling, callbacks);
    } catch (error) {
      this.cache = null;
      return Promise.reject(error);
    }
  }

  discard(): void {
    this.state = 'discarded';
    this.cache = null;
    this.host.cancelExtension(this);
  }

  /**
   * Ids that more text cannot change: the text up to its last whitespace, less its last token
   * (a pre-token may still merge with what follows).
   */
  private stableIds(): number[] {
    const cut = Math.max(this.text.lastIndexOf(' '), this.text.lastIndexOf('\n'));
    if (cut <= 0) return [];
    const ids = this.host.encode(this.text.slice(0, cut), this.addSpecialTokens);
    return ids.slice(0, -1);
  }

  /** Called by the engine's loop: prefills the stable part of the text received so far. */
  async extend(session: DecoderSession, chunk: number): Promise<void> {
    if (this.state !== 'open') return;
    const ids = this.stableIds();
    const keep = commonPrefixLength(this.cachedIds, ids);
    if (keep === ids.length && keep === this.cachedIds.length) return;
    let cache = this.cache && keep > 0 ? this.cache.truncateSingle(keep) : session.emptyCache(1);
    for (let at = keep; at < ids.length; at += chunk) {
      cache = (await session.run(cache, [ids.slice(at, Math.min(at + chunk, ids.length))], false)).cache;
    }
    if (this.state !== 'open') return;
    this.cache = cache;
    this.cachedIds = ids;
    this.prefilledAhead = ids.length;
  }

  takeCache(promptIds: readonly number[]): KvCache | null {
    const keep = commonPrefixLength(this.cachedIds, promptIds);
    const cache = this.cache && keep > 0 ? this.cache.truncateSingle(keep) : null;
    this.cache = null;
    this.cachedIds = [];
    return cache;
  }
}

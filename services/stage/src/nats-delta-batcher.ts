// Coalesces text deltas for the bus: the first delta goes out at once (time to first token is not
// delayed), later ones are merged while they arrive faster than one message per window, so a fast
// decoder does not pay one NATS message per token.
import type { TokenLogprob } from '../../shared/generated/fslm/v1/TokenLogprob.ts';

export interface BatchedDelta {
  seq: number;
  text: string;
  tokens: number;
  /** The merged deltas' log-probabilities, in order (empty unless the request asked for them). */
  logprobs: TokenLogprob[];
}

export const DEFAULT_DELTA_WINDOW_MS = 4;

export class DeltaBatcher {
  private text = '';
  private tokens = 0;
  private logprobs: TokenLogprob[] = [];
  private seq = 0;
  private lastSent = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly send: (delta: BatchedDelta) => void, private readonly windowMs = DEFAULT_DELTA_WINDOW_MS) {}

  push(text: string, tokens: number, logprobs: readonly TokenLogprob[] = []): void {
    this.text += text;
    this.tokens += tokens;
    this.logprobs.push(...logprobs);
    if (this.timer) return;
    const wait = this.lastSent + this.windowMs - performance.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Sends what is pending now (before a result, so deltas stay ahead of it). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.text.length === 0) return;
    const delta = { seq: this.seq++, text: this.text, tokens: this.tokens, logprobs: this.logprobs };
    this.text = '';
    this.tokens = 0;
    this.logprobs = [];
    this.lastSent = performance.now();
    this.send(delta);
  }

  /** Drops anything pending (the request failed). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.text = '';
    this.logprobs = [];
  }
}

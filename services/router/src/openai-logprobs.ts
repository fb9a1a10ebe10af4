// OpenAI's `logprobs` in chat completions: the final stage's per-token log-probabilities as the stage
// reports them (TokenLogprob: the model's own distribution, before sampling shapes it), in OpenAI's
// shape `{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}`.
//
// `bytes` are the UTF-8 bytes of the token's text. A stage reports a token that holds only part of a
// UTF-8 character with U+FFFD in its text (generation.proto, TopLogprob.token); its real bytes are
// not known here, so such a token gets `bytes: null` (OpenAI: "null if there is no bytes
// representation for the token") rather than the bytes of U+FFFD.
import type { TokenLogprob__Output } from '../../shared/generated/fslm/v1/TokenLogprob.ts';
import type { TopLogprob__Output } from '../../shared/generated/fslm/v1/TopLogprob.ts';

/** One of the most likely tokens at a position, as OpenAI writes it. */
export interface OpenAiTopLogprob {
  token: string;
  /** Natural log of the token's probability (≤ 0). */
  logprob: number;
  /** UTF-8 bytes of `token`; null when the stage reported part of a character as U+FFFD. */
  bytes: number[] | null;
}

/** One generated token with its log-probability and the most likely tokens at its position. */
export interface OpenAiTokenLogprob extends OpenAiTopLogprob {
  top_logprobs: OpenAiTopLogprob[];
}

/** A choice's `logprobs` object (OpenAI's `choices[i].logprobs`). */
export interface OpenAiLogprobs {
  content: OpenAiTokenLogprob[];
  refusal: null;
}

const REPLACEMENT = '\uFFFD';

/** UTF-8 bytes of a token's text, or null when the text stands in U+FFFD for a partial character. */
export function tokenBytes(token: string): number[] | null {
  if (token.includes(REPLACEMENT)) return null;
  return [...Buffer.from(token, 'utf8')];
}

function top(entry: TopLogprob__Output): OpenAiTopLogprob {
  return { token: entry.token, logprob: entry.logprob, bytes: tokenBytes(entry.token) };
}

/** Stage logprobs entries in OpenAI's shape, in order. */
export function toOpenAiLogprobs(entries: readonly TokenLogprob__Output[]): OpenAiLogprobs {
  return { content: entries.map((e) => ({ ...top(e), top_logprobs: e.top_logprobs.map(top) })), refusal: null };
}

/**
 * The logprobs entries of a streamed final stage that are still to be sent, kept consistent over
 * retries the way RetryTextGuard keeps its text: entries of the first attempt are forwarded as they
 * come; a retried attempt forwards only its entries past those already sent (a retry that differs in
 * text ends the stream through RetryTextGuard, so the entries it would repeat are the same tokens).
 */
export class LogprobsStream {
  private sent = 0;
  private attempt = 0;
  private seen = 0;

  /** The entries of a delta of `attempt` that were not sent yet. */
  next(attempt: number, entries: readonly TokenLogprob__Output[]): TokenLogprob__Output[] {
    if (attempt !== this.attempt) {
      this.attempt = attempt;
      this.seen = 0;
    }
    const from = Math.max(0, this.sent - this.seen);
    this.seen += entries.length;
    const fresh = entries.slice(from);
    this.sent += fresh.length;
    return fresh;
  }

  /** The entries of the stage's result (every generated token) that no delta carried. */
  finish(all: readonly TokenLogprob__Output[]): TokenLogprob__Output[] {
    const rest = all.slice(this.sent);
    this.sent = all.length;
    return rest;
  }
}

// Keeps a streamed text consistent when the stage that produces it is retried on another replica: a
// client must never receive repeated text, or text mixed from two attempts.
//
// Policy: the first attempt's text is forwarded as it comes. When the stage starts over (a higher
// attempt number), nothing of the new attempt is forwarded until it reaches past what was already
// sent, and then only the part past it, provided it begins with exactly the text already sent (as a
// greedy stage's retry does). An attempt that differs from the text already sent ends the stream
// with an error: what the client holds cannot be taken back.
import { errors, type FslmError } from '../../shared/errors.ts';

export class RetryTextGuard {
  /** Text forwarded to the client so far. */
  private sent = '';
  private attempt = 0;
  /** The current attempt's text so far. */
  private text = '';

  constructor(private readonly stage: string) {}

  /** What has been forwarded. */
  get forwarded(): string {
    return this.sent;
  }

  private diverged(): FslmError {
    return errors.unavailable(`stage ${this.stage} was retried on another replica after ${this.sent.length} characters of its text had been streamed, `
      + 'and the retry\'s text differs from them; the stream ends here (retry the request)');
  }

  /** The part of a delta of `attempt` to forward ('' while a retry catches up); throws UNAVAILABLE when the attempt differs from what was sent. */
  next(attempt: number, delta: string): string {
    if (attempt !== this.attempt) {
      this.attempt = attempt;
      this.text = '';
    }
    this.text += delta;
    return this.advance(false);
  }

  /** The rest to forward once the attempt ends with `text` (its whole text); throws UNAVAILABLE when it does not continue what was sent. */
  finish(attempt: number, text: string): string {
    if (attempt !== this.attempt) this.attempt = attempt;
    this.text = text;
    return this.advance(true);
  }

  private advance(final: boolean): string {
    if (this.text.length <= this.sent.length) {
      if (!this.sent.startsWith(this.text) || (final && this.text.length < this.sent.length)) throw this.diverged();
      return '';
    }
    if (!this.text.startsWith(this.sent)) throw this.diverged();
    const rest = this.text.slice(this.sent.length);
    this.sent = this.text;
    return rest;
  }
}

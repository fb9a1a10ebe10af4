// The answer text an OpenAI client receives as `delta.content` while the final stage streams. Content sent
// cannot be taken back, so when the final stage is retried on another replica (a lost replica, a failed
// attempt) the new attempt's text is checked against what was sent: while it repeats it, nothing is sent;
// once it goes further, only the new part is; if it differs, the answer cannot be mended and the caller
// must end the stream with an error. When the stage finishes, text whose deltas were lost is sent then.
import { errors, type FslmError } from '../../shared/errors.ts';

export class AnswerStream {
  private sent = '';
  private attempt = 0;
  private text = '';

  /**
   * The part of `delta` (of attempt `attempt`) to send now ('' for none). Throws an UNAVAILABLE FslmError
   * when a later attempt's text differs from what was already sent.
   */
  push(attempt: number, delta: string): string {
    if (attempt !== this.attempt) {
      this.attempt = attempt;
      this.text = '';
    }
    this.text += delta;
    if (this.text.length <= this.sent.length) {
      if (!this.sent.startsWith(this.text)) throw this.diverged();
      return '';
    }
    if (!this.text.startsWith(this.sent)) throw this.diverged();
    const next = this.text.slice(this.sent.length);
    this.sent = this.text;
    return next;
  }

  /**
   * The stage's whole answer once it finished: the part not sent yet (deltas lost on the way), or ''.
   * Throws an UNAVAILABLE FslmError when what was sent is not the start of `text`.
   */
  finish(text: string): string {
    if (!text.startsWith(this.sent)) throw this.diverged();
    const rest = text.slice(this.sent.length);
    this.sent = text;
    return rest;
  }

  private diverged(): FslmError {
    return errors.unavailable(`part of the answer was sent, then the final stage's text no longer continued it (attempt ${this.attempt}: retried on another replica with a different answer)`);
  }
}

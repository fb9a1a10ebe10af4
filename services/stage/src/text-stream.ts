// Turns a growing list of token ids into text deltas that never split a character.
// Byte-level BPE tokens can end in the middle of a UTF-8 sequence; the decoder then yields U+FFFD,
// so a delta is held back until the character completes.

export type DecodeIds = (ids: number[]) => string;

export class TextStream {
  private readonly ids: number[] = [];
  /** Start of the window that is re-decoded; earlier tokens are final. */
  private prefixOffset = 0;
  /** End of the tokens whose text has been emitted. */
  private readOffset = 0;
  private emitted = '';

  constructor(private readonly decode: DecodeIds) {}

  /** Adds a token; returns the newly completed text (possibly empty). */
  push(id: number): string {
    this.ids.push(id);
    const window = this.ids.slice(this.prefixOffset);
    const prefixText = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const fullText = this.decode(window);
    if (fullText.length > prefixText.length && !fullText.endsWith('\uFFFD')) {
      const delta = fullText.slice(prefixText.length);
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      this.emitted += delta;
      return delta;
    }
    return '';
  }

  /** All text emitted so far. */
  text(): string {
    return this.emitted;
  }

  /** Whatever is still held back (an incomplete character at the end), decoded as is. */
  flush(): string {
    if (this.readOffset === this.ids.length) return '';
    const prefixText = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const rest = this.decode(this.ids.slice(this.prefixOffset)).slice(prefixText.length);
    this.readOffset = this.ids.length;
    this.emitted += rest;
    return rest;
  }
}

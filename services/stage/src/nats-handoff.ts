// The stage's half of the streamed hand-off: the prompt is rendered with a sentinel where the previous
// stage's text goes, the part before it is prefilled at once, the previous stage's text is prefilled
// as it arrives (as content: it can never become a special token), and start() completes the prompt
// with the tail. Whenever the pieces do not add up to exactly the prompt a plain request would
// render, it falls back to a plain generate, so greedy output is the same either way. The engine
// counts the prompt against its admission and limits from the start; a refusal is reported through
// onRefused().
import { errors, type FslmError } from '../../shared/errors.ts';
import { joinPieces } from './prompt-pieces.ts';
import type { GenerateCallbacks, GenerateInput, GenerateResult, IncrementalPrompt, InferenceEngine, PromptInput, PromptPiece } from './types.ts';

export type HandoffPath = 'incremental' | 'fallback';

function substitute(prompt: PromptInput, sentinel: string, text: string): PromptInput {
  if (prompt.kind === 'text') return { kind: 'text', text: prompt.text.split(sentinel).join(text) };
  if (prompt.kind === 'chat') return { kind: 'chat', messages: prompt.messages.map((m) => ({ role: m.role, content: m.content.split(sentinel).join(text) })) };
  return prompt;
}

function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

export class HandoffPrompt {
  private appended = '';
  private nextSeq = 0;
  private broken = false;
  private settled = false;
  private refusal: FslmError | null = null;
  private refusalListener: ((error: FslmError) => void) | null = null;
  private prompt!: IncrementalPrompt;
  /** Which way start() went. */
  path: HandoffPath | null = null;

  private constructor(
    private readonly engine: InferenceEngine,
    private readonly input: GenerateInput,
    private readonly sentinel: string,
    private readonly prefix: string,
    private readonly tail: PromptPiece[],
  ) {}

  /**
   * Renders the prompt around the sentinel and starts prefilling the part before it. Throws
   * INVALID_ARGUMENT unless the sentinel occurs once in the prompt's text, FAILED_PRECONDITION when
   * the chat template does not keep it as content.
   */
  static open(engine: InferenceEngine, input: GenerateInput, sentinel: string): HandoffPrompt {
    const raw = input.prompt;
    const rawText = raw.kind === 'text' ? raw.text : raw.kind === 'chat' ? raw.messages.map((m) => m.content).join('\n') : '';
    if (raw.kind === 'ids' || occurrences(rawText, sentinel) !== 1) {
      throw errors.invalidArgument('handoff_sentinel must occur exactly once in the prompt', 'handoff_sentinel');
    }
    const pieces = engine.renderPieces(raw);
    const at = pieces.findIndex((p) => !p.markup && p.text.includes(sentinel));
    if (at < 0 || occurrences(joinPieces(pieces), sentinel) !== 1) {
      throw errors.failedPrecondition('the chat template does not keep the hand-off sentinel exactly once as message text; send a plain request');
    }
    const cut = pieces[at].text.indexOf(sentinel);
    const before = [...pieces.slice(0, at), { text: pieces[at].text.slice(0, cut), markup: false }];
    const after = [{ text: pieces[at].text.slice(cut + sentinel.length), markup: false }, ...pieces.slice(at + 1)];
    const handoff = new HandoffPrompt(engine, input, sentinel, joinPieces(before), after);
    handoff.prompt = engine.beginPrompt(input.requestId, {
      addSpecialTokens: raw.kind === 'text',
      maxNewTokens: input.sampling.maxNewTokens,
      onRefused: (error) => handoff.refused(error),
    });
    handoff.prompt.append(before);
    return handoff;
  }

  /** Calls `listener` if the engine drops the prompt before start() (admission, limits, engine stopped). */
  onRefused(listener: (error: FslmError) => void): void {
    this.refusalListener = listener;
    if (this.refusal) listener(this.refusal);
  }

  /** More of the previous stage's text; a gap in the sequence sends start() down the plain path. */
  append(seq: number, text: string): void {
    if (this.settled) return;
    if (seq !== this.nextSeq) {
      this.broken = true;
      return;
    }
    this.nextSeq++;
    if (this.broken) return;
    this.appended += text;
    this.prompt.append(text);
  }

  /** Completes the prompt with the previous stage's whole text and generates. */
  start(text: string, callbacks: GenerateCallbacks): Promise<GenerateResult> {
    this.settled = true;
    if (this.refusal) return Promise.reject(this.refusal);
    const full = substitute(this.input.prompt, this.sentinel, text);
    const rendered = this.engine.renderPrompt(full);
    if (!this.broken && text.startsWith(this.appended) && rendered === this.prefix + text + joinPieces(this.tail)) {
      this.path = 'incremental';
      return this.prompt.start([{ text: text.slice(this.appended.length), markup: false }, ...this.tail], this.input.sampling, callbacks);
    }
    this.path = 'fallback';
    this.prompt.discard();
    return this.engine.generate({ ...this.input, prompt: full }, callbacks);
  }

  discard(): void {
    if (this.settled) return;
    this.settled = true;
    this.prompt.discard();
  }

  private refused(error: FslmError): void {
    this.refusal = error;
    this.settled = true;
    this.refusalListener?.(error);
  }
}

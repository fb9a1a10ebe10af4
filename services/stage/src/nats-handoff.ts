// The stage's half of the streamed hand-off: the prompt is rendered with a sentinel where the previous
// stage's text goes, the part before it is prefilled at once, the previous stage's text is prefilled
// as it arrives, and start() completes the prompt with the tail. Whenever the pieces do not add up to
// exactly the prompt a plain request would render, it falls back to a plain generate, so greedy
// output is the same either way.
import { errors } from '../../shared/errors.ts';
import type { GenerateCallbacks, GenerateInput, GenerateResult, IncrementalPrompt, InferenceEngine, PromptInput } from './types.ts';

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
  /** Which way start() went. */
  path: HandoffPath | null = null;

  private constructor(
    private readonly engine: InferenceEngine,
    private readonly input: GenerateInput,
    private readonly sentinel: string,
    private readonly prefix: string,
    private readonly suffix: string,
    private readonly prompt: IncrementalPrompt,
  ) {}

  /** Renders the prompt around the sentinel and starts prefilling the part before it. */
  static open(engine: InferenceEngine, input: GenerateInput, sentinel: string): HandoffPrompt {
    const raw = input.prompt;
    const rawText = raw.kind === 'text' ? raw.text : raw.kind === 'chat' ? raw.messages.map((m) => m.content).join('\n') : '';
    if (raw.kind === 'ids' || occurrences(rawText, sentinel) !== 1) {
      throw errors.invalidArgument('handoff_sentinel must occur exactly once in the prompt', 'handoff_sentinel');
    }
    const rendered = engine.renderPrompt(raw);
    const at = rendered.indexOf(sentinel);
    if (at < 0 || occurrences(rendered, sentinel) !== 1) {
      throw errors.failedPrecondition("the chat template does not keep the hand-off sentinel exactly once; send a plain request");
    }
    const prompt = engine.beginPrompt(input.requestId, { addSpecialTokens: raw.kind === 'text' });
    prompt.append(rendered.slice(0, at));
    return new HandoffPrompt(engine, input, sentinel, rendered.slice(0, at), rendered.slice(at + sentinel.length), prompt);
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
    const full = substitute(this.input.prompt, this.sentinel, text);
    const rendered = this.engine.renderPrompt(full);
    if (!this.broken && text.startsWith(this.appended) && rendered === this.prefix + text + this.suffix) {
      this.path = 'incremental';
      return this.prompt.start(text.slice(this.appended.length) + this.suffix, this.input.sampling, callbacks);
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
}

// Tokenizer and chat template of one artifact: text to ids, ids to text, messages to prompt text.
// User text and earlier stages' text are content: they are tokenized as plain text by a tokenizer
// without the special added tokens, so `<|im_end|>` typed by a user is seven ordinary tokens, never
// the control token. Only the chat template's own markup is tokenized with special tokens
// (like transformers' split_special_tokens, applied to content alone).
import { randomBytes } from 'node:crypto';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { errors } from '../../shared/errors.ts';
import type { Artifact } from './artifact.ts';
import { joinPieces, mergePieces, sectionsOf, type SpecialToken } from './prompt-pieces.ts';
import type { ChatMessage, PromptInput, PromptPiece } from './types.ts';

interface AddedTokenEntry {
  id: number;
  content: string;
  special?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
}

/** Private-use characters around the stand-ins for message contents while the template renders. */
const MARK_OPEN = '\uE000';
const MARK_CLOSE = '\uE001';

export class TextCodec {
  /** Parses special tokens: used for template markup and for decoding. */
  private readonly tokenizer: Tokenizer;
  /** The same tokenizer without its special added tokens: content can never produce one. */
  private readonly plain: Tokenizer;
  private readonly specials: SpecialToken[];
  /** Ids the tokenizer's post-processor puts around a text prompt (add_special_tokens), e.g. a BOS. */
  private readonly around: { prefix: number[]; suffix: number[] };
  private readonly chatTemplate: Template | null;
  private readonly templateTokens: Record<string, string>;
  private readonly marker = randomBytes(6).toString('hex');

  constructor(artifact: Artifact) {
    const config = artifact.tokenizerConfig;
    const json = artifact.tokenizerJson as { added_tokens?: AddedTokenEntry[] };
    const added = json.added_tokens ?? [];
    this.tokenizer = new Tokenizer(json, config);
    this.plain = new Tokenizer({ ...json, added_tokens: added.filter((t) => !t.special) }, config);
    this.specials = added.filter((t) => t.special).map((t) => ({ content: t.content, id: t.id, lstrip: t.lstrip ?? false, rstrip: t.rstrip ?? false }));
    this.around = this.specialTokensAround();
    const template = config.chat_template;
    this.chatTemplate = typeof template === 'string' && template.length > 0 ? new Template(template) : null;
    this.templateTokens = {};
    for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
      const value = config[key];
      if (typeof value === 'string') this.templateTokens[key] = value;
      else if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
        this.templateTokens[key] = (value as { content: string }).content;
      }
    }
  }

  get hasChatTemplate(): boolean {
    return this.chatTemplate !== null;
  }

  /** The exact text handed to the tokenizer for a prompt. */
  render(prompt: PromptInput): string {
    return joinPieces(this.renderPieces(prompt));
  }

  /**
   * A prompt as markup and content pieces. Throws INVALID_ARGUMENT for chat messages without a chat
   * template, or content holding a special token's text under a template that rewrites message text
   * (its content could not be told apart from its markup).
   */
  renderPieces(prompt: PromptInput): PromptPiece[] {
    switch (prompt.kind) {
      case 'text':
        return [{ text: prompt.text, markup: false }];
      case 'chat':
        return this.renderChatPieces(prompt.messages);
      case 'ids':
        return [{ text: this.decode(prompt.ids, false), markup: true }];
    }
  }

  /** Prompt ids: chat prompts hold their own markup, so (as apply_chat_template) no special tokens are added around them. */
  encodePrompt(prompt: PromptInput): number[] {
    if (prompt.kind === 'ids') return prompt.ids;
    return this.encodePieces(this.renderPieces(prompt), prompt.kind === 'text');
  }

  /** Ids of rendered pieces: special tokens from markup only, content as plain text. */
  encodePieces(pieces: readonly PromptPiece[], addSpecialTokens: boolean): number[] {
    const ids: number[] = [];
    for (const section of sectionsOf(pieces, this.specials)) {
      if ('special' in section) ids.push(section.special.id);
      else ids.push(...this.plain.encode(section.text, { add_special_tokens: false }).ids);
    }
    return addSpecialTokens ? [...this.around.prefix, ...ids, ...this.around.suffix] : ids;
  }

  /**
   * Ids of a prompt and of continuations to score, split as lm-eval splits a context and its
   * continuation: a continuation's ids are those of prompt + continuation beyond the prompt's own ids
   * (tokenized without the tokenizer's suffix tokens). An empty text prompt becomes `emptyPromptToken`
   * (lm-eval's prefix token: BOS, or EOS when the model has none); a continuation that starts with that
   * token uses it as its prompt instead. Throws INVALID_ARGUMENT for a continuation without tokens.
   */
  encodeForScoring(prompt: PromptInput, continuations: readonly string[], emptyPromptToken: number): { prompt: number[]; continuations: number[][] } {
    const noTokens = (i: number) => errors.invalidArgument(`continuations[${i}] adds no token to the prompt`, `continuations[${i}]`);
    if (prompt.kind === 'text' && prompt.text.length === 0) {
      let promptIds = [emptyPromptToken];
      const ids = continuations.map((text, i) => {
        const own = this.encode(text, false);
        if (own[0] !== emptyPromptToken) return own;
        if (continuations.length > 1) {
          throw errors.invalidArgument(`continuations[${i}] starts with the prefix token ${emptyPromptToken}: score it alone`, `continuations[${i}]`);
        }
        promptIds = own.slice(0, 1);
        return own.slice(1);
      });
      ids.forEach((c, i) => {
        if (c.length === 0) throw noTokens(i);
      });
      return { prompt: promptIds, continuations: ids };
    }
    if (prompt.kind === 'ids') {
      return { prompt: prompt.ids, continuations: continuations.map((text, i) => {
        const ids = this.encode(text, false);
        if (ids.length === 0) throw noTokens(i);
        return ids;
      }) };
    }
    const pieces = this.renderPieces(prompt);
    const own = this.encodePieces(pieces, false);
    const prefix = prompt.kind === 'text' ? this.around.prefix : [];
    const ids = continuations.map((text, i) => {
      const whole = this.encodePieces([...pieces, { text, markup: false }], false);
      if (whole.length <= own.length) throw noTokens(i);
      return whole.slice(own.length);
    });
    return { prompt: [...prefix, ...own], continuations: ids };
  }

  /** Ids of content text (never a special token). */
  encode(text: string, addSpecialTokens = true): number[] {
    return this.encodePieces([{ text, markup: false }], addSpecialTokens);
  }

  decode(ids: number[], skipSpecialTokens = true): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode(ids, { skip_special_tokens: skipSpecialTokens, clean_up_tokenization_spaces: false });
  }

  private renderChat(messages: ChatMessage[]): string {
    if (!this.chatTemplate) throw errors.invalidArgument('this model has no chat template; send a plain prompt', 'messages');
    return this.chatTemplate.render({ messages, add_generation_prompt: true, ...this.templateTokens });
  }

  /** Renders once with stand-ins for the contents to learn which text is the template's. */
  private renderChatPieces(messages: ChatMessage[]): PromptPiece[] {
    const canonical = this.renderChat(messages);
    const standIn = (i: number) => `${MARK_OPEN}${this.marker}:${i}${MARK_CLOSE}`;
    const marked = this.renderChat(messages.map((m, i) => ({ role: m.role, content: standIn(i) })));
    const pattern = new RegExp(`${MARK_OPEN}${this.marker}:(\\d+)${MARK_CLOSE}`, 'g');
    const pieces: PromptPiece[] = [];
    let at = 0;
    for (const match of marked.matchAll(pattern)) {
      pieces.push({ text: marked.slice(at, match.index), markup: true });
      pieces.push({ text: messages[Number(match[1])]?.content ?? match[0], markup: false });
      at = match.index! + match[0].length;
    }
    pieces.push({ text: marked.slice(at), markup: true });
    if (joinPieces(pieces) === canonical) return mergePieces(pieces);
    // The template rewrites message text: safe as one piece only when no content holds a special token.
    messages.forEach((m, i) => {
      const special = this.specials.find((s) => m.content.includes(s.content));
      if (special) {
        throw errors.invalidArgument(
          `messages[${i}].content holds the special token ${special.content}; this model's chat template rewrites message text, so it cannot be kept as plain text`,
          `messages[${i}].content`,
        );
      }
    });
    return [{ text: canonical, markup: true }];
  }

  private specialTokensAround(): { prefix: number[]; suffix: number[] } {
    const post = this.tokenizer.post_processor;
    if (!post) return { prefix: [], suffix: [] };
    const placeholder = `${MARK_OPEN}text${MARK_CLOSE}`;
    const tokens = post([placeholder], null, true).tokens;
    const at = tokens.indexOf(placeholder);
    const id = (token: string) => {
      const value = this.tokenizer.token_to_id(token);
      if (value === undefined) throw errors.failedPrecondition(`the tokenizer's post-processor adds ${token}, which is not in its vocabulary`);
      return value;
    };
    return { prefix: tokens.slice(0, at).map(id), suffix: tokens.slice(at + 1).map(id) };
  }
}

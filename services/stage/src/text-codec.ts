// Tokenizer and chat template of one artifact: text to ids, ids to text, messages to prompt text.
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { errors } from '../../shared/errors.ts';
import type { Artifact } from './artifact.ts';
import type { ChatMessage, PromptInput } from './types.ts';

export class TextCodec {
  private readonly tokenizer: Tokenizer;
  private readonly chatTemplate: Template | null;
  private readonly specialTokens: Record<string, string>;

  constructor(artifact: Artifact) {
    const config = artifact.tokenizerConfig;
    this.tokenizer = new Tokenizer(artifact.tokenizerJson, config);
    const template = config.chat_template;
    this.chatTemplate = typeof template === 'string' && template.length > 0 ? new Template(template) : null;
    this.specialTokens = {};
    for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
      const value = config[key];
      if (typeof value === 'string') this.specialTokens[key] = value;
      else if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
        this.specialTokens[key] = (value as { content: string }).content;
      }
    }
  }

  get hasChatTemplate(): boolean {
    return this.chatTemplate !== null;
  }

  /** The exact text handed to the tokenizer for a prompt. */
  render(prompt: PromptInput): string {
    switch (prompt.kind) {
      case 'text':
        return prompt.text;
      case 'chat':
        return this.renderChat(prompt.messages);
      case 'ids':
        return this.decode(prompt.ids, false);
    }
  }

  renderChat(messages: ChatMessage[]): string {
    if (!this.chatTemplate) throw errors.invalidArgument('this model has no chat template; send a plain prompt', 'messages');
    return this.chatTemplate.render({ messages, add_generation_prompt: true, ...this.specialTokens });
  }

  /**
   * Rendered chat text already holds its special tokens, so (as transformers' apply_chat_template does)
   * no further special tokens are added to it.
   */
  encodePrompt(prompt: PromptInput): number[] {
    if (prompt.kind === 'ids') return prompt.ids;
    return this.encode(this.render(prompt), prompt.kind === 'text');
  }

  encode(text: string, addSpecialTokens = true): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  decode(ids: number[], skipSpecialTokens = true): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode(ids, { skip_special_tokens: skipSpecialTokens, clean_up_tokenization_spaces: false });
  }
}

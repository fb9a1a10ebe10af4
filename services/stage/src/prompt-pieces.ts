// Prompt pieces: a rendered prompt as template markup and content. Special tokens are recognised in
// markup only; content (user text, earlier stages' text) is always tokenized as plain text.
import type { PromptPiece } from './types.ts';

/** A special token of the tokenizer as its added_tokens entry describes it. */
export interface SpecialToken {
  content: string;
  id: number;
  /** Whitespace before it is dropped (tokenizers' lstrip). */
  lstrip: boolean;
  /** Whitespace after it is dropped (tokenizers' rstrip). */
  rstrip: boolean;
}

/** A prompt cut for tokenizing: plain text sections and the special tokens between them. */
export type Section = { text: string } | { special: SpecialToken };

export function joinPieces(pieces: readonly PromptPiece[]): string {
  return pieces.map((p) => p.text).join('');
}

/** Adjacent pieces of the same kind merged, empty ones dropped. */
export function mergePieces(pieces: readonly PromptPiece[]): PromptPiece[] {
  const out: PromptPiece[] = [];
  for (const piece of pieces) {
    if (piece.text.length === 0) continue;
    const last = out[out.length - 1];
    if (last && last.markup === piece.markup) out[out.length - 1] = { text: last.text + piece.text, markup: last.markup };
    else out.push({ ...piece });
  }
  return out;
}

/** The pieces covering the first `end` characters of their joined text. */
export function slicePieces(pieces: readonly PromptPiece[], end: number): PromptPiece[] {
  const out: PromptPiece[] = [];
  let at = 0;
  for (const piece of pieces) {
    if (at >= end) break;
    const take = Math.min(piece.text.length, end - at);
    out.push(take === piece.text.length ? piece : { text: piece.text.slice(0, take), markup: piece.markup });
    at += piece.text.length;
  }
  return out;
}

/**
 * Cuts a prompt at the special tokens its markup holds (leftmost, longest first, as the tokenizer's
 * own splitter does). A special token's text inside content, or spanning content and markup, stays
 * plain text. lstrip/rstrip trim the neighbouring whitespace as the tokenizer would.
 */
export function sectionsOf(pieces: readonly PromptPiece[], specials: readonly SpecialToken[]): Section[] {
  const byLength = [...specials].sort((a, b) => b.content.length - a.content.length);
  const sections: Section[] = [];
  let text = '';
  for (const piece of mergePieces(pieces)) {
    if (!piece.markup) {
      text += piece.text;
      continue;
    }
    let start = 0;
    for (let i = 0; i < piece.text.length; ) {
      const match = byLength.find((s) => piece.text.startsWith(s.content, i));
      if (!match) {
        i++;
        continue;
      }
      text += piece.text.slice(start, i);
      sections.push({ text }, { special: match });
      text = '';
      i += match.content.length;
      start = i;
    }
    text += piece.text.slice(start);
  }
  sections.push({ text });
  sections.forEach((section, i) => {
    if (!('special' in section)) return;
    const before = sections[i - 1];
    const after = sections[i + 1];
    if (section.special.lstrip && before && 'text' in before) before.text = before.text.trimEnd();
    if (section.special.rstrip && after && 'text' in after) after.text = after.text.trimStart();
  });
  return sections.filter((s) => 'special' in s || s.text.length > 0);
}

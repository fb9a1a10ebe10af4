// Stage prompt templates: text with {input} and {stages.<name>} references; {{ and }} are literal braces.
export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'input' }
  | { kind: 'stage'; name: string };

export interface Template {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
}

export interface TemplateValues {
  input: string;
  /** Texts of the stages that have run, by name. */
  stages: Readonly<Record<string, string>>;
}

/** A template problem with the 1-based column where it starts. */
export class TemplateSyntaxError extends Error {
  constructor(message: string, readonly column: number) {
    super(`${message} (column ${column})`);
    this.name = 'TemplateSyntaxError';
  }
}

const REFERENCE = /^(input|stages\.([a-z0-9][a-z0-9-]*))$/;

export function parseTemplate(source: string): Template {
  const parts: TemplatePart[] = [];
  let text = '';
  const flush = () => {
    if (text) parts.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '{' && source[i + 1] === '{') {
      text += '{';
      i++;
    } else if (c === '}' && source[i + 1] === '}') {
      text += '}';
      i++;
    } else if (c === '{') {
      const end = source.indexOf('}', i);
      if (end < 0) throw new TemplateSyntaxError('unclosed "{"', i + 1);
      // Only the white space the Stack CRD's template rule allows (RE2's \s), not all of Unicode's.
      const name = source.slice(i + 1, end).replace(/^[ \t\n\r\f]+|[ \t\n\r\f]+$/g, '');
      const match = REFERENCE.exec(name);
      if (!match) throw new TemplateSyntaxError(`unknown reference {${name}}: use {input} or {stages.<name>} (write {{ for a literal brace)`, i + 1);
      flush();
      parts.push(match[2] ? { kind: 'stage', name: match[2] } : { kind: 'input' });
      i = end;
    } else if (c === '}') {
      throw new TemplateSyntaxError('unmatched "}" (write }} for a literal brace)', i + 1);
    } else {
      text += c;
    }
  }
  flush();
  return { source, parts };
}

/** Names of the stages a template reads, with how often each is used. */
export function stageReferences(template: Template): Map<string, number> {
  const counts = new Map<string, number>();
  for (const part of template.parts) {
    if (part.kind === 'stage') counts.set(part.name, (counts.get(part.name) ?? 0) + 1);
  }
  return counts;
}

/**
 * Renders a template. `pending` names one stage whose text is not known yet: it is replaced by
 * `sentinel` (the streamed hand-off splits the rendered prompt there).
 */
export function renderTemplate(template: Template, values: TemplateValues, pending?: { stage: string; sentinel: string }): string {
  let out = '';
  for (const part of template.parts) {
    if (part.kind === 'text') out += part.text;
    else if (part.kind === 'input') out += values.input;
    else if (pending && part.name === pending.stage) out += pending.sentinel;
    else {
      const text = values.stages[part.name];
      if (text === undefined) throw new Error(`stage ${part.name} has no text yet`);
      out += text;
    }
  }
  return out;
}

// Reading a JSON request body on the HTTP door, strictly: the body must be declared JSON
// (`content-type: application/json`, UTF-8), uncompressed, at most MAX_BODY_BYTES, valid UTF-8 and
// valid JSON with no key given twice in one object. Anything else is refused with a status that says
// why (415, 413, 400) before any of it is used: no byte is replaced, no duplicate silently wins.
import type { IncomingMessage } from 'node:http';
import { ErrorCode } from '../../shared/errors.ts';
import { OpenAICode, RequestError } from './request-errors.ts';

/** The largest body the door reads, in bytes. */
export const MAX_BODY_BYTES = 2 << 20;

/** A refused body, with the HTTP status that says why (413, 415; 400 for the rest). */
export class BodyError extends RequestError {
  constructor(message: string, readonly httpStatus = 400, field?: string) {
    super(ErrorCode.InvalidArgument, message, field, OpenAICode.InvalidValue);
    this.name = 'BodyError';
  }
}

/** Refuses a body that is not declared as uncompressed UTF-8 JSON (415). */
export function checkBodyHeaders(headers: IncomingMessage['headers']): void {
  const type = headers['content-type'];
  const [media, ...params] = (type ?? '').split(';').map((part) => part.trim().toLowerCase());
  if (media !== 'application/json') {
    throw new BodyError(`the body must be JSON sent with content-type: application/json (got ${type === undefined ? 'no content-type' : JSON.stringify(type)})`, 415);
  }
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/^"|"$/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new BodyError(`the body must be UTF-8 (content-type names charset ${JSON.stringify(charset)})`, 415);
  }
  const encoding = headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new BodyError(`content-encoding ${JSON.stringify(encoding)} is not accepted; send the body uncompressed`, 415);
  }
  const length = headers['content-length'];
  if (length !== undefined && Number(length) > MAX_BODY_BYTES) {
    throw new BodyError(`the body has ${length} bytes; at most ${MAX_BODY_BYTES}`, 413);
  }
}

/**
 * The first key that occurs twice in one object of `text`, as a path (`fslm.timeout_ms`,
 * `messages[].role`), or null. `text` must already be valid JSON (JSON.parse accepted it); keys are
 * compared after unescaping, so `"a"` and `"\u0061"` are the same key.
 */
export function duplicateKey(text: string): string | null {
  /** The open objects and arrays: an object's keys so far (null for an array) and its place in the path. */
  const open: Array<{ keys: Set<string> | null; path: string }> = [];
  let expectKey = false;
  let lastKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const top = open[open.length - 1];
        if (top.keys!.has(key)) return top.path ? `${top.path}.${key}` : key;
        top.keys!.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      const parent = open[open.length - 1];
      // A value's place: its key in an object, `[]` after its array's place.
      const place = !parent ? '' : parent.keys ? (parent.path ? `${parent.path}.${lastKey}` : lastKey) : `${parent.path}[]`;
      open.push({ keys: c === '{' ? new Set() : null, path: place });
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      expectKey = open[open.length - 1].keys !== null;
    }
  }
  return null;
}

/** Reads and parses the body; throws a BodyError (415, 413 or 400) that says what is wrong with it. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  checkBodyHeaders(req.headers);
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyError(`the body is larger than ${MAX_BODY_BYTES} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new BodyError('the body is not valid UTF-8');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new BodyError(`the body is not valid JSON: ${(error as Error).message}`);
  }
  const duplicate = duplicateKey(text);
  if (duplicate !== null) throw new BodyError(`the body gives the key '${duplicate}' more than once`, 400, duplicate);
  return body;
}

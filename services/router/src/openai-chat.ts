// The OpenAI chat-completions request, field by field: each field of OpenAI's schema either works as
// OpenAI documents it or is refused with a 400 that names it (`param`) — the decisions are the table
// in services/router/README.md. A request becomes a stack run: model = stack, {input} = the one user
// message, sampling fields (and logprobs) apply to the final stage.
import { OPENAI_MAX_STOP_SEQUENCES } from './defaults.ts';
import { checkGenerationParams } from './generation-checks.ts';
import { requestErrors, typeName } from './request-errors.ts';
import type { RequestFields, StageParams } from './types.ts';

export interface ChatRequest {
  model: string;
  input: string;
  stream: boolean;
  includeUsage: boolean;
  /** The final stage's parameters, in the router's form (undefined = the stack's value). */
  finalParams: StageParams;
  /** Names the request's fields as the client wrote them. */
  fields: RequestFields;
  disableHandoff: boolean;
  timeoutMs: number | null;
  requestId?: string;
}

type Json = Record<string, unknown>;

/** The longest `fslm.timeout_ms` (and `x-fslm-timeout-ms`): one day. */
export const MAX_TIMEOUT_MS = 86_400_000;
const MAX_TAG_CHARS = 256;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmptyObject = (v: unknown) => isObject(v) && Object.keys(v).length === 0;
const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];

/** Accepts no value (null aside): the field is refused as an unsupported parameter. */
const none = () => false;

/**
 * Fields fslm cannot honour: accepted only with the value that means "off" (OpenAI's default) or
 * null, else refused with a 400 that names the field.
 */
const OFF_ONLY: Record<string, { accepts(v: unknown): boolean; why: string }> = {
  presence_penalty: { accepts: (v) => v === 0, why: 'the stages have no presence penalty; only 0 is accepted' },
  frequency_penalty: { accepts: (v) => v === 0, why: 'the stages have no frequency penalty; only 0 is accepted' },
  logit_bias: { accepts: isEmptyObject, why: 'the stages take no logit bias; only {} is accepted' },
  response_format: { accepts: (v) => isObject(v) && v.type === 'text' && Object.keys(v).length === 1, why: 'structured output (json_object, json_schema) is not supported; only {"type":"text"} is accepted' },
  tools: { accepts: none, why: 'a stack cannot call tools' },
  tool_choice: { accepts: (v) => v === 'none', why: 'a stack cannot call tools; only "none" is accepted' },
  parallel_tool_calls: { accepts: none, why: 'a stack cannot call tools' },
  functions: { accepts: none, why: 'a stack cannot call functions' },
  function_call: { accepts: (v) => v === 'none', why: 'a stack cannot call functions; only "none" is accepted' },
  metadata: { accepts: none, why: 'completions are not stored, so there is nothing to tag' },
  store: { accepts: (v) => v === false, why: 'completions are not stored; only false is accepted' },
  service_tier: { accepts: (v) => v === 'auto' || v === 'default', why: 'one service tier; only "auto" or "default" is accepted' },
  modalities: { accepts: (v) => Array.isArray(v) && v.length === 1 && v[0] === 'text', why: 'text output only; only ["text"] is accepted' },
  audio: { accepts: none, why: 'text output only' },
  prediction: { accepts: none, why: 'predicted outputs are not supported' },
  reasoning_effort: { accepts: none, why: 'the stages are not reasoning models' },
  verbosity: { accepts: (v) => v === 'medium', why: 'the stages cannot be steered in length this way; only "medium" is accepted (use max_tokens)' },
  web_search_options: { accepts: none, why: 'a stack cannot search the web' },
};

/** Fields that work, each read by parseChatRequest. */
const WORKS = [
  'model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'n', 'stop', 'stream', 'stream_options',
  'seed', 'logprobs', 'top_logprobs', 'user', 'safety_identifier', 'prompt_cache_key', 'fslm',
];
const KNOWN = [...WORKS, ...Object.keys(OFF_ONLY)];

function optional(b: Json, key: string): unknown {
  return b[key] === null ? undefined : b[key];
}

function number(b: Json, key: string, integer: boolean): number | undefined {
  const v = optional(b, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || (integer && !Number.isInteger(v))) throw requestErrors.invalidType(key, integer ? 'an integer' : 'a number', v);
  return v;
}

function string(b: Json, key: string, max = MAX_TAG_CHARS): string | undefined {
  const v = optional(b, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw requestErrors.invalidType(key, 'a string', v);
  if (v.length > max) throw requestErrors.invalidValue(key, `at most ${max} characters, got ${v.length}`);
  return v;
}

function boolean(b: Json, key: string, path = key): boolean | undefined {
  const v = optional(b, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw requestErrors.invalidType(path, 'a boolean', v);
  return v;
}

function contentText(content: unknown, path: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw requestErrors.invalidType(path, 'a string or an array of content parts', content);
  return content.map((part, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(part)) throw requestErrors.invalidType(at, 'a content part object', part);
    if (part.type !== 'text') throw requestErrors.unsupportedValue(`${at}.type`, `only text parts are supported, got ${JSON.stringify(part.type)}`);
    for (const key of Object.keys(part)) if (key !== 'type' && key !== 'text') throw requestErrors.unknownParameter(`${at}.${key}`, ['type', 'text']);
    if (typeof part.text !== 'string') throw requestErrors.invalidType(`${at}.text`, 'a string', part.text);
    return part.text;
  }).join('');
}

/** The stack input: the text of the one user message. */
function inputOf(messages: unknown): string {
  if (messages === undefined || messages === null) throw requestErrors.missing('messages', 'one user message, whose text is the stack input');
  if (!Array.isArray(messages)) throw requestErrors.invalidType('messages', 'an array', messages);
  if (messages.length === 0) throw requestErrors.invalidValue('messages', 'expected one user message, got none');
  messages.forEach((m, i) => {
    if (!isObject(m)) throw requestErrors.invalidType(`messages[${i}]`, 'a message object', m);
    if (typeof m.role !== 'string' || !ROLES.includes(m.role)) throw requestErrors.invalidValue(`messages[${i}].role`, `expected one of ${ROLES.join(', ')}, got ${JSON.stringify(m.role)}`);
    if (m.role !== 'user') {
      throw requestErrors.unsupportedValue(`messages[${i}].role`, `a stack answers one user message; ${m.role} messages are not supported (every stage has its own system prompt)`);
    }
    if (i > 0) throw requestErrors.unsupportedValue(`messages[${i}]`, 'a stack answers one user message; earlier turns are not supported');
  });
  const message = messages[0] as Json;
  for (const key of Object.keys(message)) {
    if (key === 'name') throw requestErrors.unsupportedParameter('messages[0].name', 'participant names are not supported');
    if (key !== 'role' && key !== 'content') throw requestErrors.unknownParameter(`messages[0].${key}`, ['role', 'content']);
  }
  if (message.content === undefined || message.content === null) throw requestErrors.missing('messages[0].content', 'the text of the user message');
  return contentText(message.content, 'messages[0].content');
}

/**
 * `logprobs` and `top_logprobs` as the final stage's parameters: logprobs a boolean; top_logprobs an
 * integer 0 to MAX_TOP_LOGPROBS (the stage's own limit), only with logprobs true.
 */
function logprobsOf(b: Json): Pick<StageParams, 'logprobs' | 'top_logprobs'> {
  const logprobs = boolean(b, 'logprobs');
  const top = number(b, 'top_logprobs', true);
  if (top !== undefined && logprobs !== true) throw requestErrors.invalidValue('top_logprobs', 'only allowed when logprobs is true');
  if (!logprobs) return {};
  return { logprobs: true, top_logprobs: top ?? 0 };
}

function stopOf(b: Json): string[] | undefined {
  const v = optional(b, 'stop');
  if (v === undefined) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list)) throw requestErrors.invalidType('stop', 'a string or an array of strings', v);
  if (list.length > OPENAI_MAX_STOP_SEQUENCES) throw requestErrors.invalidValue('stop', `at most ${OPENAI_MAX_STOP_SEQUENCES} stop sequences, got ${list.length}`);
  list.forEach((s, i) => {
    if (typeof s !== 'string') throw requestErrors.invalidType(`stop[${i}]`, 'a string', s);
  });
  return list.length > 0 ? (list as string[]) : undefined;
}

function maxTokensOf(b: Json): { value: number | undefined; field: string } {
  const legacy = number(b, 'max_tokens', true);
  const current = number(b, 'max_completion_tokens', true);
  if (legacy !== undefined && current !== undefined && legacy !== current) {
    throw requestErrors.invalidValue('max_tokens', `max_tokens (${legacy}) and max_completion_tokens (${current}) differ; set one of them`);
  }
  if (current !== undefined) return { value: current, field: 'max_completion_tokens' };
  return { value: legacy, field: 'max_tokens' };
}

function seedOf(b: Json): string | undefined {
  const seed = number(b, 'seed', true);
  if (seed === undefined) return undefined;
  if (seed < 0) throw requestErrors.outOfRange('seed', seed, 'an integer >= 0 (the stages take an unsigned 64-bit seed)', true, true);
  if (!Number.isSafeInteger(seed)) throw requestErrors.invalidValue('seed', `${seed} is larger than a JSON number holds exactly (at most ${Number.MAX_SAFE_INTEGER})`);
  return String(seed);
}

function streamOptionsOf(b: Json, stream: boolean): boolean {
  const options = optional(b, 'stream_options');
  if (options === undefined) return false;
  if (!isObject(options)) throw requestErrors.invalidType('stream_options', 'an object', options);
  if (!stream) throw requestErrors.invalidValue('stream_options', 'only allowed when stream is true');
  for (const key of Object.keys(options)) {
    if (key !== 'include_usage' && key !== 'include_obfuscation') throw requestErrors.unknownParameter(`stream_options.${key}`, ['include_usage', 'include_obfuscation']);
  }
  if (boolean(options, 'include_obfuscation', 'stream_options.include_obfuscation') === true) {
    throw requestErrors.unsupportedValue('stream_options.include_obfuscation', 'chunks are not padded; only false is accepted');
  }
  return boolean(options, 'include_usage', 'stream_options.include_usage') ?? false;
}

/** Checks a timeout in milliseconds (the body's fslm.timeout_ms or the x-fslm-timeout-ms header). */
export function timeoutOf(value: unknown, field: string): number {
  if (typeof value !== 'number') throw requestErrors.invalidType(field, 'a number of milliseconds', value);
  if (!(value > 0) || value > MAX_TIMEOUT_MS) throw requestErrors.outOfRange(field, value, `a number of milliseconds in (0, ${MAX_TIMEOUT_MS}]`, !(value > 0), false);
  return value;
}

function extensionOf(b: Json): { disableHandoff: boolean; timeoutMs: number | null; requestId?: string } {
  const ext = optional(b, 'fslm');
  if (ext === undefined) return { disableHandoff: false, timeoutMs: null };
  if (!isObject(ext)) throw requestErrors.invalidType('fslm', 'an object', ext);
  const known = ['disable_handoff', 'timeout_ms', 'request_id'];
  for (const key of Object.keys(ext)) if (!known.includes(key)) throw requestErrors.unknownParameter(`fslm.${key}`, known);
  const requestId = optional(ext, 'request_id');
  if (requestId !== undefined && typeof requestId !== 'string') throw requestErrors.invalidType('fslm.request_id', 'a string', requestId);
  const timeout = optional(ext, 'timeout_ms');
  return {
    disableHandoff: boolean(ext, 'disable_handoff', 'fslm.disable_handoff') ?? false,
    timeoutMs: timeout === undefined ? null : timeoutOf(timeout, 'fslm.timeout_ms'),
    requestId: requestId as string | undefined,
  };
}

export function parseChatRequest(body: unknown): ChatRequest {
  if (!isObject(body)) throw requestErrors.invalidBody(`the body must be a JSON object, got ${typeName(body)}`);
  for (const key of Object.keys(body)) if (!KNOWN.includes(key)) throw requestErrors.unknownParameter(key, KNOWN);
  for (const [key, rule] of Object.entries(OFF_ONLY)) {
    const v = optional(body, key);
    if (v === undefined || rule.accepts(v)) continue;
    throw rule.accepts === none ? requestErrors.unsupportedParameter(key, rule.why) : requestErrors.unsupportedValue(key, rule.why);
  }
  const model = optional(body, 'model');
  if (model === undefined) throw requestErrors.missing('model', 'the name of a stack (see GET /v1/models)');
  if (typeof model !== 'string' || model === '') throw requestErrors.invalidType('model', 'a non-empty string naming a stack', model);
  const input = inputOf(body.messages);
  const n = number(body, 'n', true);
  if (n !== undefined && n !== 1) throw requestErrors.unsupportedValue('n', `a stack gives one choice; only 1 is accepted, got ${n}`);
  const stream = boolean(body, 'stream') ?? false;
  const includeUsage = streamOptionsOf(body, stream);
  for (const key of ['user', 'safety_identifier', 'prompt_cache_key']) string(body, key);
  const maxTokens = maxTokensOf(body);
  const finalParams: StageParams = {
    max_new_tokens: maxTokens.value, temperature: number(body, 'temperature', false), top_p: number(body, 'top_p', false),
    seed: seedOf(body), stop: stopOf(body), ...logprobsOf(body),
  };
  const fields: RequestFields = { input: 'messages', param: (_stage, key) => (key === 'max_new_tokens' ? maxTokens.field : key) };
  checkGenerationParams(finalParams, (key) => fields.param('', key));
  return { model, input, stream, includeUsage, finalParams, fields, ...extensionOf(body) };
}

/** Every top-level field the door knows: those that work, and those accepted only "off" (for the README table and its test). */
export const OPENAI_FIELDS = { works: WORKS, offOnly: Object.keys(OFF_ONLY) } as const;

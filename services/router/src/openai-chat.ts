// The OpenAI chat-completions shapes: a request becomes a stack run (model = stack, {input} = the last
// user message, sampling fields apply to the final stage), and a run becomes a completion with every
// stage's text in the `fslm` extension field.
import { errors } from '../../shared/errors.ts';
import type { GenerationParams } from '../../shared/generated/fslm/v1/GenerationParams.ts';
import type { StackDefinition, StackOutcome } from './types.ts';
import { roundMs, toStageOutput, totalUsage } from './wire.ts';

export interface ChatRequest {
  model: string;
  input: string;
  stream: boolean;
  includeUsage: boolean;
  finalParams: GenerationParams;
  disableHandoff: boolean;
  timeoutMs: number | null;
  requestId?: string;
}

type Json = Record<string, unknown>;

function contentText(content: unknown, path: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part, i) => {
      if (part && typeof part === 'object' && (part as Json).type === 'text' && typeof (part as Json).text === 'string') return (part as Json).text as string;
      throw errors.invalidArgument(`${path}[${i}] must be a text part`, `${path}[${i}]`);
    }).join('');
  }
  throw errors.invalidArgument(`${path} must be a string or a list of text parts`, path);
}

function optionalNumber(body: Json, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw errors.invalidArgument(`${key} must be a number`, key);
  return v;
}

export function parseChatRequest(body: unknown): ChatRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.invalidArgument('the body must be a JSON object');
  const b = body as Json;
  if (typeof b.model !== 'string' || b.model === '') throw errors.invalidArgument('model must name a stack (see GET /v1/models)', 'model');
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw errors.invalidArgument('messages must be a non-empty list', 'messages');
  let input: string | null = null;
  b.messages.forEach((m, i) => {
    if (!m || typeof m !== 'object' || typeof (m as Json).role !== 'string') throw errors.invalidArgument(`messages[${i}].role is required`, `messages[${i}].role`);
    if ((m as Json).role === 'user') input = contentText((m as Json).content, `messages[${i}].content`);
  });
  if (input === null) throw errors.invalidArgument('messages must hold a user message (its text is the stack input)', 'messages');
  const n = optionalNumber(b, 'n');
  if (n !== undefined && n !== 1) throw errors.invalidArgument('n must be 1', 'n');
  const maxTokens = optionalNumber(b, 'max_completion_tokens') ?? optionalNumber(b, 'max_tokens');
  const seed = optionalNumber(b, 'seed');
  let stop: string[] | undefined;
  if (typeof b.stop === 'string') stop = [b.stop];
  else if (Array.isArray(b.stop)) stop = b.stop.map((s, i) => {
    if (typeof s !== 'string') throw errors.invalidArgument(`stop[${i}] must be a string`, `stop[${i}]`);
    return s;
  });
  const ext = (b.fslm && typeof b.fslm === 'object' ? b.fslm : {}) as Json;
  const timeout = ext.timeout_ms;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0))) throw errors.invalidArgument('fslm.timeout_ms must be a positive number', 'fslm.timeout_ms');
  const streamOptions = (b.stream_options && typeof b.stream_options === 'object' ? b.stream_options : {}) as Json;
  return {
    model: b.model,
    input: input as string,
    stream: b.stream === true,
    includeUsage: streamOptions.include_usage === true,
    finalParams: {
      max_new_tokens: maxTokens, temperature: optionalNumber(b, 'temperature'), top_p: optionalNumber(b, 'top_p'),
      seed: seed === undefined ? undefined : String(seed), stop,
    },
    disableHandoff: ext.disable_handoff === true,
    timeoutMs: typeof timeout === 'number' ? timeout : null,
    requestId: typeof ext.request_id === 'string' ? ext.request_id : undefined,
  };
}

export function finishReasonOf(wire: string | undefined): 'stop' | 'length' {
  return wire === 'FINISH_REASON_LENGTH' ? 'length' : 'stop';
}

export function usageOf(outcome: StackOutcome) {
  const usage = totalUsage(outcome.stages);
  return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

/** The `fslm` extension: every stage's text, model version and timings. */
export function extensionOf(outcome: StackOutcome) {
  return { request_id: outcome.requestId, trace_id: outcome.traceId, total_ms: roundMs(outcome.totalMs), stages: outcome.stages.map(toStageOutput) };
}

export function toCompletion(outcome: StackOutcome, created: number) {
  const last = outcome.stages[outcome.stages.length - 1];
  return {
    id: `chatcmpl-${outcome.requestId}`,
    object: 'chat.completion',
    created,
    model: outcome.stack,
    choices: [{ index: 0, message: { role: 'assistant', content: outcome.text, refusal: null }, logprobs: null, finish_reason: finishReasonOf(last.result.finish_reason) }],
    usage: usageOf(outcome),
    fslm: extensionOf(outcome),
  };
}

export function toModelList(stacks: Iterable<StackDefinition>, created: number) {
  return { object: 'list', data: [...stacks].map((s) => toModel(s, created)) };
}

export function toModel(stack: StackDefinition, created: number) {
  return { id: stack.name, object: 'model', created, owned_by: 'fslm', fslm: { description: stack.description, stages: stack.stages.map((s) => s.name) } };
}

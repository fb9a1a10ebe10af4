// Checks what a caller asks of a stack (from gRPC or HTTP) and turns it into a StackRunRequest: every
// field that does not depend on a stage's limits is checked here, before anything is admitted; every
// problem names its field. The stage-dependent checks follow in request-limits.ts.
import { randomUUID } from 'node:crypto';
import type { RunRequest__Output } from '../../shared/generated/fslm/v1/RunRequest.ts';
import type { StackScoreRequest__Output } from '../../shared/generated/fslm/v1/StackScoreRequest.ts';
import { MAX_TOP_LOGPROBS } from './defaults.ts';
import { checkGenerationParams, fromWireParams } from './generation-checks.ts';
import { requestErrors } from './request-errors.ts';
import type { RequestFields, ScoreAsk, StackDefinition, StackRunRequest, StageParams } from './types.ts';

export const MAX_INPUT_CHARS = 1 << 18;
const REQUEST_ID = /^[A-Za-z0-9_:-]{1,96}$/;
/** A UTF-16 surrogate that is not part of a pair: text that cannot be sent as UTF-8 without replacing it. */
const LONE_SURROGATE = /\p{Cs}/u;

export interface RunAsk {
  input: string;
  requestId?: string;
  /** Per-stage overrides in the router's form (undefined = not set; see generation-checks.ts). */
  params?: Record<string, StageParams>;
  fields: RequestFields;
  disableHandoff?: boolean;
  deadlineMs: number;
  signal: AbortSignal;
  trace?: Record<string, string>;
}

/** The field names of the gRPC door. */
export const GRPC_FIELDS: RequestFields = {
  input: 'input',
  param: (stage, key) => `params.${stage}.${key}`,
};

/** A string the stages can receive unchanged, or INVALID_ARGUMENT naming `field`. */
export function checkText(text: string, field: string): void {
  const at = text.search(LONE_SURROGATE);
  if (at >= 0) throw requestErrors.invalidValue(field, `holds a lone UTF-16 surrogate at index ${at} (not valid Unicode)`);
}

export function toStackRunRequest(stack: StackDefinition, ask: RunAsk, handoffByDefault: boolean): StackRunRequest {
  const inputField = ask.fields.input;
  if (typeof ask.input !== 'string') throw requestErrors.invalidType(inputField, 'a string', ask.input);
  if (ask.input.trim() === '') throw requestErrors.invalidValue(inputField, 'the input is empty');
  if (ask.input.length > MAX_INPUT_CHARS) throw requestErrors.invalidValue(inputField, `the input has ${ask.input.length} characters; at most ${MAX_INPUT_CHARS}`);
  checkText(ask.input, inputField);
  // Request ids become NATS-safe attempt ids (<id>.<stage>.<attempt>), so no dots.
  const requestId = ask.requestId || randomUUID();
  if (!REQUEST_ID.test(requestId)) throw requestErrors.invalidValue('request_id', 'a request id is 1-96 characters of [A-Za-z0-9_:-]');
  const params = ask.params ?? {};
  for (const [name, p] of Object.entries(params)) {
    if (!stack.stages.some((s) => s.name === name)) {
      throw requestErrors.invalidValue(`params.${name}`, `stack ${stack.name} has no stage ${JSON.stringify(name)} (stages: ${stack.stages.map((s) => s.name).join(', ')})`);
    }
    checkGenerationParams(p, (key) => ask.fields.param(name, key));
    p.stop?.forEach((s, i) => checkText(s, `${ask.fields.param(name, 'stop')}[${i}]`));
  }
  return {
    requestId,
    input: ask.input,
    deadlineMs: ask.deadlineMs,
    params,
    fields: ask.fields,
    handoff: handoffByDefault && !ask.disableHandoff,
    signal: ask.signal,
    trace: ask.trace,
  };
}

/** A gRPC request's per-stage params in the router's form (proto3: zero = the stack's value). */
export function grpcParams(request: Pick<RunRequest__Output, 'params'>): Record<string, StageParams> {
  return Object.fromEntries(Object.entries(request.params ?? {}).map(([stage, p]) => [stage, fromWireParams(p)]));
}

/** Continuations one StackService.Score may hold (as StageService.Score). */
export const MAX_SCORE_CONTINUATIONS = 64;

/** The continuations and top_logprobs of a StackService.Score, checked; every problem names its field. */
export function toScoreAsk(request: Pick<StackScoreRequest__Output, 'continuations' | 'top_logprobs'>): ScoreAsk {
  const { continuations } = request;
  if (continuations.length === 0) throw requestErrors.invalidValue('continuations', 'send at least one text to score');
  if (continuations.length > MAX_SCORE_CONTINUATIONS) throw requestErrors.invalidValue('continuations', `${continuations.length} texts; at most ${MAX_SCORE_CONTINUATIONS}`);
  let chars = 0;
  continuations.forEach((text, i) => {
    if (text.length === 0) throw requestErrors.invalidValue(`continuations[${i}]`, 'the text is empty');
    checkText(text, `continuations[${i}]`);
    chars += text.length;
  });
  if (chars > MAX_INPUT_CHARS) throw requestErrors.invalidValue('continuations', `${chars} characters; at most ${MAX_INPUT_CHARS}`);
  const top = request.top_logprobs;
  if (!Number.isInteger(top) || top < 0 || top > MAX_TOP_LOGPROBS) throw requestErrors.invalidValue('top_logprobs', `${top}; an integer from 0 to ${MAX_TOP_LOGPROBS}`);
  return { continuations, topLogprobs: top };
}

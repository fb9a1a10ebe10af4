// Checks what a caller asks of a stack (from gRPC or HTTP) and turns it into a StackRunRequest; every
// problem names its field.
import { randomUUID } from 'node:crypto';
import { errors } from '../../shared/errors.ts';
import type { GenerationParams } from '../../shared/generated/fslm/v1/GenerationParams.ts';
import type { StackDefinition, StackRunRequest } from './types.ts';

export const MAX_INPUT_CHARS = 1 << 18;
const REQUEST_ID = /^[A-Za-z0-9_:-]{1,96}$/;

export interface RunAsk {
  input: string;
  requestId?: string;
  params?: Record<string, GenerationParams>;
  disableHandoff?: boolean;
  deadlineMs: number;
  signal: AbortSignal;
  trace?: Record<string, string>;
}

export function toStackRunRequest(stack: StackDefinition, ask: RunAsk, handoffByDefault: boolean): StackRunRequest {
  if (typeof ask.input !== 'string' || ask.input.trim() === '') throw errors.invalidArgument('input is empty', 'input');
  if (ask.input.length > MAX_INPUT_CHARS) throw errors.invalidArgument(`input is longer than ${MAX_INPUT_CHARS} characters`, 'input');
  // Request ids become NATS-safe attempt ids (<id>.<stage>.<attempt>), so no dots.
  const requestId = ask.requestId || randomUUID();
  if (!REQUEST_ID.test(requestId)) throw errors.invalidArgument('request_id must be 1-96 characters of [A-Za-z0-9_:-]', 'request_id');
  const params = ask.params ?? {};
  for (const name of Object.keys(params)) {
    if (!stack.stages.some((s) => s.name === name)) {
      throw errors.invalidArgument(`params names no stage of ${stack.name}: ${JSON.stringify(name)} (stages: ${stack.stages.map((s) => s.name).join(', ')})`, `params.${name}`);
    }
  }
  return {
    requestId,
    input: ask.input,
    deadlineMs: ask.deadlineMs,
    params,
    handoff: handoffByDefault && !ask.disableHandoff,
    signal: ask.signal,
    trace: ask.trace,
  };
}

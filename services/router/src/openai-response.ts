// The OpenAI response shapes: a stack run as a chat completion (with every stage's text in the `fslm`
// extension field), and stacks as models.
import { toOpenAiLogprobs } from './openai-logprobs.ts';
import type { StackDefinition, StackOutcome } from './types.ts';
import { roundMs, toStageOutput, totalUsage } from './wire.ts';

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

/**
 * A run as a chat completion. With `logprobs` (the request asked for them), `choices[0].logprobs`
 * holds the final stage's per-token log-probabilities, one per generated token as the stage reports
 * them (its end-of-sequence token included); else it is null.
 */
export function toCompletion(outcome: StackOutcome, created: number, logprobs = false) {
  const last = outcome.stages[outcome.stages.length - 1];
  return {
    id: `chatcmpl-${outcome.requestId}`,
    object: 'chat.completion',
    created,
    model: outcome.stack,
    choices: [{ index: 0, message: { role: 'assistant', content: outcome.text, refusal: null }, logprobs: logprobs ? toOpenAiLogprobs(last.result.logprobs ?? []) : null, finish_reason: finishReasonOf(last.result.finish_reason) }],
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

// Checks a request against the limits its stages described (stage-limits.ts) before any stage runs:
// the tokens each stage would generate, and a lower bound of each stage's prompt against the stage's
// prompt limit and the model's context.
import { errors } from '../../shared/errors.ts';
import type { GenerationParams } from '../../shared/generated/fslm/v1/GenerationParams.ts';
import { requestErrors } from './request-errors.ts';
import { GRPC_FIELDS } from './run-request.ts';
import { mergeParams } from './stage-prompt.ts';
import type { StageLimits } from './stage-limits.ts';
import { renderTemplate } from './template.ts';
import type { StackDefinition, StackRunRequest, StageDefinition } from './types.ts';

/**
 * A lower bound on the number of tokens of `text`: its runs of non-whitespace characters. It holds for
 * every tokenizer that never puts two whitespace-separated words into one token: byte-level BPE with
 * the GPT-2 / Llama 3 pre-tokenizer (SmolLM2, Pythia, Llama 3) and SentencePiece with whitespace
 * splitting. The router has no tokenizer, so it refuses only what it can prove too long; the stage
 * counts exactly and refuses the rest.
 */
export function minTokens(text: string): number {
  const word = /\S+/gu;
  let count = 0;
  while (word.exec(text)) count++;
  return count;
}

/** The part of stage `index`'s prompt known before earlier stages ran: its system prompt and template with the input, earlier stages' texts empty. */
function knownPrompt(stack: StackDefinition, index: number, input: string): string {
  const stage = stack.stages[index];
  const empty = Object.fromEntries(stack.stages.slice(0, index).map((s) => [s.name, '']));
  return `${stage.system}\n${renderTemplate(stage.template, { input, stages: empty })}`;
}

const fieldsOf = (request: StackRunRequest) => request.fields ?? GRPC_FIELDS;

function checkNewTokens(stage: StageDefinition, request: StackRunRequest, merged: GenerationParams, limits: StageLimits): void {
  const asked = merged.max_new_tokens;
  if (asked === undefined || asked <= limits.maxNewTokensLimit) return;
  if (request.params[stage.name]?.max_new_tokens !== undefined) {
    throw requestErrors.outOfRange(fieldsOf(request).param(stage.name, 'max_new_tokens'), asked,
      `at most ${limits.maxNewTokensLimit}, the limit of stage ${stage.name}`, false, true);
  }
  throw errors.failedPrecondition(`the stack asks stage ${stage.name} for ${asked} new tokens, but its replicas allow at most ${limits.maxNewTokensLimit}`);
}

/** Refuses what stage `index` would refuse for its size (see checkAgainstLimits); `l` are its limits. */
function checkStage(stack: StackDefinition, index: number, request: StackRunRequest, l: StageLimits): void {
  const stage = stack.stages[index];
  const merged = mergeParams(stage.params, request.params[stage.name]);
  checkNewTokens(stage, request, merged, l);
  const prompt = minTokens(knownPrompt(stack, index, request.input));
  if (prompt > l.maxPromptTokens) {
    throw requestErrors.contextLength(fieldsOf(request).input,
      `the input makes a prompt of at least ${prompt} tokens for stage ${stage.name}, which accepts at most ${l.maxPromptTokens}`);
  }
  if (l.maxPositions === null) return;
  // The stage counts its default when the request and the stack set none.
  const newTokens = merged.max_new_tokens ?? l.defaultMaxNewTokens ?? 1;
  if (prompt + newTokens > l.maxPositions) {
    const byRequest = request.params[stage.name]?.max_new_tokens !== undefined;
    throw requestErrors.contextLength(byRequest ? fieldsOf(request).param(stage.name, 'max_new_tokens') : fieldsOf(request).input,
      `stage ${stage.name}'s model has a context of ${l.maxPositions} tokens, but the prompt (at least ${prompt} tokens) plus ${newTokens} new tokens exceed it`);
  }
}

/**
 * Refuses (INVALID_ARGUMENT naming the field and the limit; FAILED_PRECONDITION when the stack
 * definition itself asks too much) a request that some stage would refuse for its size.
 * `limits[i]` belongs to `stack.stages[i]`.
 */
export function checkAgainstLimits(stack: StackDefinition, request: StackRunRequest, limits: readonly StageLimits[]): void {
  stack.stages.forEach((_, index) => checkStage(stack, index, request, limits[index]));
}

/**
 * Why `stack` cannot serve any request at all with stages of these limits (`limits[i]` belongs to
 * `stack.stages[i]`): a stage asked for more new tokens than it allows, or a prompt that is too long
 * before any input is added. Empty when it can serve some. `fslm up` checks this before it serves.
 */
export function stackLimitProblems(stack: StackDefinition, limits: readonly StageLimits[]): string[] {
  // The smallest request: a one-word input and nothing of its own.
  const smallest: StackRunRequest = { requestId: 'check', input: 'x', deadlineMs: Infinity, params: {}, handoff: false, signal: new AbortController().signal };
  const problems: string[] = [];
  stack.stages.forEach((_, index) => {
    try {
      checkStage(stack, index, smallest, limits[index]);
    } catch (error) {
      problems.push((error as Error).message);
    }
  });
  return problems;
}

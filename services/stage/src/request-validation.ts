// Checks a GenerateRequest from the wire and turns it into engine input; every problem names its field.
import { randomUUID } from 'node:crypto';
import { errors } from '../../shared/errors.ts';
import type { GenerateRequest__Output } from '../../shared/generated/fslm/v1/GenerateRequest.ts';
import type { ScoreRequest__Output } from '../../shared/generated/fslm/v1/ScoreRequest.ts';
import { checkTopLogprobs, resolveSampling } from './sampling-params.ts';
import type { EngineLimits, GenerateInput, PromptInput, ScoreInput } from './types.ts';

/** Characters accepted before tokenizing, so a huge prompt is refused without work. */
export const MAX_PROMPT_CHARS = 1 << 20;
export const MAX_MESSAGES = 256;
/** Continuations one Score request may hold. */
export const MAX_CONTINUATIONS = 64;
const ROLES = new Set(['system', 'user', 'assistant', 'tool']);
const REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

export function toGenerateInput(request: GenerateRequest__Output, limits: EngineLimits, hasChatTemplate: boolean): GenerateInput {
  const prompt = toPrompt(request, hasChatTemplate, false);
  return { prompt, sampling: resolveSampling(request.params ?? undefined, limits), requestId: requestIdOf(request.request_id) };
}

/**
 * Checks a ScoreRequest: a prompt or messages (an empty raw prompt is allowed: continuations then
 * follow the model's prefix token), 1 to MAX_CONTINUATIONS non-empty continuations within the
 * character bound, top_logprobs from 0 to 20.
 */
export function toScoreInput(request: ScoreRequest__Output, hasChatTemplate: boolean): ScoreInput {
  const prompt = toPrompt(request, hasChatTemplate, true);
  const continuations = request.continuations;
  if (continuations.length === 0) throw errors.invalidArgument('continuations is empty: send at least one text to score', 'continuations');
  if (continuations.length > MAX_CONTINUATIONS) throw errors.invalidArgument(`at most ${MAX_CONTINUATIONS} continuations`, 'continuations');
  let chars = prompt.kind === 'text' ? prompt.text.length : prompt.kind === 'chat' ? prompt.messages.reduce((n, m) => n + m.content.length, 0) : 0;
  continuations.forEach((text, i) => {
    if (text.length === 0) throw errors.invalidArgument(`continuations[${i}] is empty`, `continuations[${i}]`);
    chars += text.length;
  });
  if (chars > MAX_PROMPT_CHARS) throw errors.invalidArgument(`the prompt and continuations are longer than ${MAX_PROMPT_CHARS} characters`, 'continuations');
  return { prompt, continuations, topLogprobs: checkTopLogprobs(request.top_logprobs, 'top_logprobs'), requestId: requestIdOf(request.request_id) };
}

function requestIdOf(given: string): string {
  const requestId = given || randomUUID();
  if (!REQUEST_ID.test(requestId)) throw errors.invalidArgument('request_id must be 1-128 characters of [A-Za-z0-9._:-]', 'request_id');
  return requestId;
}

/** `allowEmpty`: an empty raw prompt is a prompt (scoring). */
function toPrompt(request: { prompt: string; messages: Array<{ role: string; content: string }> }, hasChatTemplate: boolean, allowEmpty: boolean): PromptInput {
  const hasPrompt = request.prompt.length > 0;
  const hasMessages = request.messages.length > 0;
  if (hasPrompt && hasMessages) throw errors.invalidArgument('send either prompt or messages, not both', 'prompt');
  if (!hasPrompt && !hasMessages) {
    if (allowEmpty) return { kind: 'text', text: '' };
    throw errors.invalidArgument('the prompt is empty: send prompt or messages', 'prompt');
  }
  if (hasPrompt) {
    if (request.prompt.length > MAX_PROMPT_CHARS) throw errors.invalidArgument(`prompt is longer than ${MAX_PROMPT_CHARS} characters`, 'prompt');
    return { kind: 'text', text: request.prompt };
  }
  if (!hasChatTemplate) throw errors.invalidArgument('this model has no chat template; send a plain prompt', 'messages');
  if (request.messages.length > MAX_MESSAGES) throw errors.invalidArgument(`at most ${MAX_MESSAGES} messages`, 'messages');
  let chars = 0;
  request.messages.forEach((m, i) => {
    if (!ROLES.has(m.role)) throw errors.invalidArgument(`messages[${i}].role must be one of ${[...ROLES].join(', ')}`, `messages[${i}].role`);
    chars += m.content.length;
  });
  if (chars > MAX_PROMPT_CHARS) throw errors.invalidArgument(`messages are longer than ${MAX_PROMPT_CHARS} characters`, 'messages');
  return { kind: 'chat', messages: request.messages.map((m) => ({ role: m.role, content: m.content })) };
}

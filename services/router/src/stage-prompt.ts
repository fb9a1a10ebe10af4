// What one stage is asked: its system prompt and rendered template as chat messages, and its
// generation parameters (the stack's, with the request's non-zero overrides on top).
import type { GenerateRequest } from '../../shared/generated/fslm/v1/GenerateRequest.ts';
import type { GenerationParams } from '../../shared/generated/fslm/v1/GenerationParams.ts';
import { renderTemplate, type TemplateValues } from './template.ts';
import type { StageDefinition } from './types.ts';

export function mergeParams(base: GenerationParams, override: GenerationParams | undefined): GenerationParams {
  if (!override) return { ...base };
  const pick = <T>(value: T | undefined | null, fallback: T | undefined) => (value ? value : fallback);
  return {
    max_new_tokens: pick(override.max_new_tokens, base.max_new_tokens),
    temperature: pick(override.temperature, base.temperature),
    top_k: pick(override.top_k, base.top_k),
    top_p: pick(override.top_p, base.top_p),
    repetition_penalty: pick(override.repetition_penalty, base.repetition_penalty),
    seed: override.seed !== undefined && override.seed !== null && override.seed !== '' ? override.seed : base.seed,
    stop: override.stop && override.stop.length > 0 ? override.stop : base.stop,
  };
}

/**
 * The stage's request. With `pending`, the named (previous) stage's text is not known yet and the
 * sentinel stands in its place (the streamed hand-off).
 */
export function stageRequest(
  stage: StageDefinition, values: TemplateValues, params: GenerationParams, pending?: { stage: string; sentinel: string },
): GenerateRequest {
  const messages = [];
  if (stage.system) messages.push({ role: 'system', content: stage.system });
  messages.push({ role: 'user', content: renderTemplate(stage.template, values, pending) });
  return { messages, params };
}

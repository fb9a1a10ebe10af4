// What one stage is asked: its system prompt and rendered template as chat messages, and its
// generation parameters (the stack's, with the request's explicitly set fields on top).
import type { GenerateRequest } from '../../shared/generated/fslm/v1/GenerateRequest.ts';
import type { GenerationParams } from '../../shared/generated/fslm/v1/GenerationParams.ts';
import { renderTemplate, type TemplateValues } from './template.ts';
import type { StageDefinition } from './types.ts';

/**
 * The stack's parameters for a stage with the request's set fields on top: a field the request left
 * `undefined` keeps the stack's value; any other value (zero included, e.g. temperature 0) wins.
 */
export function mergeParams(base: GenerationParams, override: GenerationParams | undefined): GenerationParams {
  const merged: GenerationParams = { ...base };
  if (!override) return merged;
  for (const key of Object.keys(override) as Array<keyof GenerationParams>) {
    const value = override[key];
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
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

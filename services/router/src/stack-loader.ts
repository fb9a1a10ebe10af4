// Loads stack definitions (YAML, shaped like a Kubernetes object: apiVersion fslm.dev/v1alpha1, kind
// Stack) and validates them, reporting every problem with its field path.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DNS_LABEL, SUBJECT_PREFIX, subjects } from '../../shared/bus-codec.ts';
import type { GenerationParams } from '../../shared/generated/fslm/v1/GenerationParams.ts';
import {
  DEFAULT_STAGE_BUDGET_MS, MAX_REPETITION_PENALTY, MAX_STAGE_BUDGET_MS, MAX_STACK_BUDGET_MS, MAX_STAGE_NEW_TOKENS, MAX_STOP_LENGTH, MAX_STOP_SEQUENCES, MAX_TEMPERATURE, MIN_REPETITION_PENALTY,
  STACK_API_VERSION, STACK_KIND,
} from './defaults.ts';
import { UINT32_MAX } from './generation-checks.ts';
import { parseTemplate, stageReferences, TemplateSyntaxError, type Template } from './template.ts';
import type { StackDefinition, StageDefinition } from './types.ts';

export interface StackProblem {
  path: string;
  message: string;
}

export class StackDefinitionError extends Error {
  constructor(readonly source: string, readonly problems: StackProblem[]) {
    super(`${source}: invalid stack definition\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'StackDefinitionError';
  }
}

const STAGE_KEYS = new Set(['name', 'model', 'subject', 'system', 'template', 'params', 'budgetMs']);
const PARAM_KEYS = new Set(['maxNewTokens', 'temperature', 'topK', 'topP', 'repetitionPenalty', 'seed', 'stop']);

export async function loadStackFile(file: string): Promise<StackDefinition> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new StackDefinitionError(file, [{ path: '(file)', message: `cannot read: ${(error as Error).message}` }]);
  }
  return { ...parseStack(text, file), source: file };
}

export function parseStack(text: string, source = '(stack)'): StackDefinition {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new StackDefinitionError(source, [{ path: '(yaml)', message: (error as Error).message.split('\n')[0] }]);
  }
  return validateStack(doc, source);
}

/** Validates a parsed document (also the shape a Kubernetes Stack object would have). */
export function validateStack(doc: unknown, source = '(stack)'): StackDefinition {
  const problems = new Problems();
  const problem = problems.add;
  const root = asObject(doc, '(root)', problem) ?? {};
  if (root.apiVersion !== STACK_API_VERSION) problem('apiVersion', `must be ${STACK_API_VERSION}`);
  if (root.kind !== STACK_KIND) problem('kind', `must be ${STACK_KIND}`);
  const metadata = asObject(root.metadata, 'metadata', problem) ?? {};
  const name = metadata.name;
  if (typeof name !== 'string' || !DNS_LABEL.test(name)) problem('metadata.name', 'must be a lowercase DNS label ([a-z0-9-], at most 63 characters)');
  const spec = asObject(root.spec, 'spec', problem) ?? {};
  if (spec.description !== undefined && typeof spec.description !== 'string') problem('spec.description', 'must be a string');
  const stackName = typeof name === 'string' ? name : '';
  const rawStages = spec.stages;
  const stages: StageDefinition[] = [];
  if (!Array.isArray(rawStages) || rawStages.length === 0) problem('spec.stages', 'must list at least one stage');
  else {
    rawStages.forEach((raw, i) => {
      const stage = validateStage(raw, `spec.stages[${i}]`, stackName, stages, problems);
      if (stage) stages.push(stage);
    });
  }
  const total = stages.reduce((sum, s) => sum + s.budgetMs, 0);
  if (total > MAX_STACK_BUDGET_MS) problem('spec.stages', `the budgets add up to ${total} ms; at most ${MAX_STACK_BUDGET_MS} (a stack's default deadline)`);
  if (problems.list.length > 0) throw new StackDefinitionError(source, problems.list);
  return { name: stackName, description: (spec.description as string | undefined) ?? '', stages };
}

type Problem = (path: string, message: string) => void;

class Problems {
  readonly list: StackProblem[] = [];
  readonly add: Problem = (path, message) => {
    this.list.push({ path, message });
  };
}

function asObject(value: unknown, path: string, problem: Problem): Record<string, unknown> | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problem(path, value === undefined ? 'is required' : 'must be a mapping');
    return null;
  }
  return value as Record<string, unknown>;
}

function validateStage(raw: unknown, path: string, stack: string, earlier: StageDefinition[], problems: Problems): StageDefinition | null {
  const problem = problems.add;
  const obj = asObject(raw, path, problem);
  if (!obj) return null;
  for (const key of Object.keys(obj)) if (!STAGE_KEYS.has(key)) problem(`${path}.${key}`, `unknown field (known: ${[...STAGE_KEYS].join(', ')})`);
  const before = problems.list.length;
  const name = obj.name;
  if (typeof name !== 'string' || !DNS_LABEL.test(name)) problem(`${path}.name`, 'must be a lowercase DNS label ([a-z0-9-])');
  else if (earlier.some((s) => s.name === name)) problem(`${path}.name`, `duplicate stage name ${JSON.stringify(name)}`);
  if (typeof obj.model !== 'string' || obj.model.trim() === '') problem(`${path}.model`, 'must name an artifact (a scripts/models name or a directory)');
  if (obj.system !== undefined && typeof obj.system !== 'string') problem(`${path}.system`, 'must be a string');
  if (obj.subject !== undefined && (typeof obj.subject !== 'string' || !SUBJECT_PREFIX.test(obj.subject))) {
    problem(`${path}.subject`, 'must be a NATS subject prefix (dot-separated tokens of [A-Za-z0-9_-])');
  }
  let template: Template | null = null;
  if (typeof obj.template !== 'string' || obj.template.trim() === '') problem(`${path}.template`, 'must be a non-empty string');
  else {
    try {
      template = parseTemplate(obj.template);
      for (const ref of stageReferences(template).keys()) {
        if (!earlier.some((s) => s.name === ref)) {
          problem(`${path}.template`, `{stages.${ref}} is not an earlier stage (earlier: ${earlier.map((s) => s.name).join(', ') || 'none'})`);
        }
      }
    } catch (error) {
      problem(`${path}.template`, error instanceof TemplateSyntaxError ? error.message : String(error));
    }
  }
  const budgetMs = obj.budgetMs ?? DEFAULT_STAGE_BUDGET_MS;
  if (typeof budgetMs !== 'number' || !Number.isInteger(budgetMs) || budgetMs <= 0 || budgetMs > MAX_STAGE_BUDGET_MS) {
    problem(`${path}.budgetMs`, `must be a positive integer of at most ${MAX_STAGE_BUDGET_MS} (milliseconds)`);
  }
  const params = validateParams(obj.params, `${path}.params`, problem);
  if (problems.list.length > before || !template || typeof name !== 'string') return null;
  const previous = earlier[earlier.length - 1];
  const handoffFrom = previous && stageReferences(template).get(previous.name) === 1 ? previous.name : null;
  return {
    name,
    model: (obj.model as string).trim(),
    subjectPrefix: (obj.subject as string | undefined) ?? subjects.prefix(stack, name),
    system: (obj.system as string | undefined) ?? '',
    template,
    params,
    budgetMs: budgetMs as number,
    handoffFrom,
  };
}

function validateParams(raw: unknown, path: string, problem: Problem): GenerationParams {
  if (raw === undefined) return {};
  const obj = asObject(raw, path, problem);
  if (!obj) return {};
  for (const key of Object.keys(obj)) if (!PARAM_KEYS.has(key)) problem(`${path}.${key}`, `unknown field (known: ${[...PARAM_KEYS].join(', ')})`);
  const num = (key: string, ok: (v: number) => boolean, rule: string): number | undefined => {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) {
      problem(`${path}.${key}`, rule);
      return undefined;
    }
    return v;
  };
  const params: GenerationParams = {
    max_new_tokens: num('maxNewTokens', (v) => Number.isInteger(v) && v >= 1 && v <= MAX_STAGE_NEW_TOKENS, `must be an integer in [1, ${MAX_STAGE_NEW_TOKENS}]`),
    temperature: num('temperature', (v) => v >= 0 && v <= MAX_TEMPERATURE, `must be in [0, ${MAX_TEMPERATURE}] (0 = greedy)`),
    top_k: num('topK', (v) => Number.isInteger(v) && v >= 0 && v <= UINT32_MAX, `must be an integer in [0, ${UINT32_MAX}]`),
    top_p: num('topP', (v) => v > 0 && v <= 1, 'must be in (0, 1]'),
    repetition_penalty: num('repetitionPenalty', (v) => v >= MIN_REPETITION_PENALTY && v <= MAX_REPETITION_PENALTY, `must be in [${MIN_REPETITION_PENALTY}, ${MAX_REPETITION_PENALTY}]`),
  };
  const seed = num('seed', (v) => Number.isSafeInteger(v) && v >= 0, 'must be a non-negative integer');
  if (seed !== undefined) params.seed = String(seed);
  if (obj.stop !== undefined) {
    if (!Array.isArray(obj.stop) || obj.stop.length > MAX_STOP_SEQUENCES || obj.stop.some((s) => typeof s !== 'string' || s.length === 0 || s.length > MAX_STOP_LENGTH)) {
      problem(`${path}.stop`, `must be a list of at most ${MAX_STOP_SEQUENCES} strings of 1 to ${MAX_STOP_LENGTH} characters`);
    }
    else params.stop = obj.stop as string[];
  }
  return params;
}

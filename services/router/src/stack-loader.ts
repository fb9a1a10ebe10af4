// Loads stack definitions (YAML, a Kubernetes object: apiVersion fslm.dev/v1alpha1, kind Stack) and
// validates them against the Stack CRD (k8s/base/crd/stacks.fslm.dev.yaml), reporting every problem
// with its field path, worded as the Python trainer words it.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { subjects } from '../../shared/bus-codec.ts';
import { schemaProblems, sortProblems, type StackProblem } from '../../shared/stack-schema.ts';
import type { GenerationParams } from '../../shared/generated/fslm/v1/GenerationParams.ts';
import { DEFAULT_STAGE_BUDGET_MS } from './defaults.ts';
import { ruleProblems } from './stack-rules.ts';
import { parseTemplate, stageReferences } from './template.ts';
import type { StackDefinition, StageDefinition } from './types.ts';

export type { StackProblem };

export class StackDefinitionError extends Error {
  constructor(readonly source: string, readonly problems: StackProblem[]) {
    super(`${source}: invalid stack definition\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'StackDefinitionError';
  }
}

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
    // YAML 1.1, as kubectl and the Python trainer read it (so `yes` is a boolean in all three).
    doc = parseYaml(text, { version: '1.1' });
  } catch (error) {
    throw new StackDefinitionError(source, [{ path: '(yaml)', message: (error as Error).message.split('\n')[0] }]);
  }
  return validateStack(doc, source);
}

/**
 * Validates a parsed document (also a Stack object read from the API server) against the Stack CRD's
 * schema and its CEL rules, and resolves it: stage defaults from spec.defaults, subjects, templates.
 */
export function validateStack(doc: unknown, source = '(stack)'): StackDefinition {
  const problems = sortProblems([...schemaProblems(doc), ...ruleProblems(doc)]);
  if (problems.length > 0) throw new StackDefinitionError(source, problems);
  const root = doc as StackDocument;
  const name = root.metadata.name;
  const stages: StageDefinition[] = [];
  for (const raw of root.spec.stages) {
    const template = parseTemplate(raw.template);
    const previous = stages[stages.length - 1];
    stages.push({
      name: raw.name,
      model: (raw.model ?? root.spec.defaults?.model ?? '').trim(),
      precision: raw.precision ?? root.spec.defaults?.precision ?? 'fp32',
      subjectPrefix: raw.subject ?? subjects.prefix(name, raw.name),
      system: raw.system ?? '',
      template,
      params: generationParams(raw.params ?? {}),
      budgetMs: raw.budgetMs ?? DEFAULT_STAGE_BUDGET_MS,
      handoffFrom: previous && stageReferences(template).get(previous.name) === 1 ? previous.name : null,
    });
  }
  return { name, description: root.spec.description ?? '', stages };
}

/** The parts of a Stack document the router reads, once the schema has accepted it. */
interface StackDocument {
  metadata: { name: string };
  spec: {
    description?: string;
    defaults?: { model?: string; precision?: StageDefinition['precision'] };
    stages: {
      name: string; model?: string; precision?: StageDefinition['precision']; subject?: string; system?: string; template: string; budgetMs?: number;
      params?: { maxNewTokens?: number; temperature?: number; topK?: number; topP?: number; repetitionPenalty?: number; seed?: number; stop?: string[] };
    }[];
  };
}

function generationParams(p: NonNullable<StackDocument['spec']['stages'][number]['params']>): GenerationParams {
  const params: GenerationParams = {
    max_new_tokens: p.maxNewTokens,
    temperature: p.temperature,
    top_k: p.topK,
    top_p: p.topP,
    repetition_penalty: p.repetitionPenalty,
  };
  if (p.seed !== undefined) params.seed = String(p.seed);
  if (p.stop !== undefined) params.stop = p.stop;
  return params;
}

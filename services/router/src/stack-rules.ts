// The Stack CRD's CEL rules (x-kubernetes-validations), which the API server evaluates and a JSON
// Schema validator cannot, mirrored in code. Each mirror is keyed by its rule's message, reports that
// message at the field it concerns, and accepts and refuses what the rule does; the Python trainer
// mirrors the same rules (stackschema.py), and a test checks both cover every rule of the CRD.
import { joinPath, stackSchema, type SchemaNode, type StackProblem } from '../../shared/stack-schema.ts';
import { parseTemplate, stageReferences, type Template } from './template.ts';

type Doc = Record<string, unknown>;
/** The fields at which a document breaks the rule. */
type Mirror = (doc: Doc) => string[];

const asObject = (v: unknown): Doc | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Doc) : undefined);

function stagesOf(doc: Doc): (Doc | undefined)[] {
  const stages = asObject(doc.spec)?.stages;
  return Array.isArray(stages) ? stages.map(asObject) : [];
}

function templateOf(stage: Doc | undefined): Template | undefined {
  if (typeof stage?.template !== 'string') return undefined;
  try {
    return parseTemplate(stage.template);
  } catch {
    return undefined;
  }
}

const at = (i: number, field: string): string => joinPath(joinPath('spec.stages', i), field);

export const RULE_MIRRORS: Readonly<Record<string, Mirror>> = {
  'every stage needs a model (set it on the stage, or spec.defaults.model for all)': (doc) => {
    if (asObject(asObject(asObject(doc.spec)?.defaults))?.model !== undefined) return [];
    return stagesOf(doc).flatMap((s, i) => (s && s.model === undefined ? [at(i, 'model')] : []));
  },
  'template: write {input} or {stages.<name>} for a text, {{ and }} for literal braces': (doc) =>
    stagesOf(doc).flatMap((s, i) => (typeof s?.template === 'string' && !templateOf(s) ? [at(i, 'template')] : [])),
  'a template may only use {stages.<name>} of a stage listed before it': (doc) => {
    const stages = stagesOf(doc);
    return stages.flatMap((s, i) => {
      const template = templateOf(s);
      if (!template) return [];
      const earlier = new Set(stages.slice(0, i).map((o) => o?.name));
      return [...stageReferences(template).keys()].some((ref) => !earlier.has(ref)) ? [at(i, 'template')] : [];
    });
  },
};

/** The messages of every CEL rule in the schema, in schema order. */
export function celRuleMessages(schema: SchemaNode = stackSchema().schema): string[] {
  const out: string[] = [];
  const walk = (s: SchemaNode | undefined): void => {
    if (!s || typeof s !== 'object') return;
    for (const r of s['x-kubernetes-validations'] ?? []) out.push(r.message);
    Object.values(s.properties ?? {}).forEach(walk);
    walk(s.items);
    if (typeof s.additionalProperties === 'object') walk(s.additionalProperties);
  };
  walk(schema);
  return out;
}

/** Every CEL rule of the schema that the document breaks, each at the field it concerns. */
export function ruleProblems(doc: unknown): StackProblem[] {
  const obj = asObject(doc);
  if (!obj) return [];
  return celRuleMessages().flatMap((message) => {
    const mirror = RULE_MIRRORS[message];
    if (!mirror) throw new Error(`the Stack CRD has a CEL rule with no mirror in stack-rules.ts: ${message}`);
    return mirror(obj).map((path) => ({ path, message }));
  });
}

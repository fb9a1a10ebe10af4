// Checks a stack document against stacks/stack.schema.json (rendered from the Stack CRD, the one
// definition of the format) with ajv, and turns each failure into a field path and a message worded
// the same way as the Python trainer's check (services/trainer/src/fslm_trainer/stackschema.py), so
// both report a file identically. The list-map keys the API server enforces (no two stages with one
// name) are checked here too; the CEL rules are mirrored by the router (stack-rules.ts).
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

export const STACK_SCHEMA_FILE = new URL('../../stacks/stack.schema.json', import.meta.url);

/** One problem with a stack document: the field (e.g. `spec.stages[1].params.topP`) and what is wrong. */
export interface StackProblem {
  path: string;
  message: string;
}

/** A JSON Schema node as the rendered schema uses them (the keywords read here). */
export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: { rule: string; message: string }[];
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'a boolean', null: 'null',
};

/** `a.b`, `a[0]`, `a["x/y"]`: identifiers join with a dot, other keys are quoted. */
export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

let compiled: { validate: ValidateFunction; schema: SchemaNode } | undefined;

/** The rendered schema and its compiled validator (loaded once). */
export function stackSchema(): { validate: ValidateFunction; schema: SchemaNode } {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(STACK_SCHEMA_FILE, 'utf8')) as SchemaNode;
    // strictTypes off: Kubernetes' int-or-string idiom puts a string `pattern` beside anyOf, which JSON Schema
    // applies to strings only, as the API server does.
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false });
    ajv.addVocabulary(['x-kubernetes-validations', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-int-or-string']);
    compiled = { validate: ajv.compile(schema), schema };
  }
  return compiled;
}

/** Turns an ajv JSON pointer into our path notation, using the data to tell indexes from keys. */
function pointerPath(doc: unknown, pointer: string): string {
  let path = '';
  let node: unknown = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path = joinPath(path, Number(key));
      node = node[Number(key)];
    } else {
      path = joinPath(path, key);
      node = (node as Record<string, unknown> | undefined)?.[key];
    }
  }
  return path;
}

function toProblem(doc: unknown, e: ErrorObject): StackProblem | null {
  const at = pointerPath(doc, e.instancePath);
  const p = e.params as Record<string, unknown>;
  const here = (message: string): StackProblem => ({ path: at || '(root)', message });
  switch (e.keyword) {
    case 'required': return { path: joinPath(at, p.missingProperty as string), message: 'is required' };
    case 'additionalProperties': {
      const known = Object.keys((e.parentSchema as SchemaNode).properties ?? {});
      return { path: joinPath(at, p.additionalProperty as string), message: `unknown field (known: ${known.join(', ')})` };
    }
    case 'type': return here(`must be ${TYPE_NAMES[p.type as string] ?? p.type}`);
    case 'anyOf': return here(`must be ${((e.schema as SchemaNode[]) ?? []).map((s) => TYPE_NAMES[s.type ?? ''] ?? s.type).join(' or ')}`);
    case 'const': return here(`must be ${show(p.allowedValue)}`);
    case 'enum': return here(`must be one of ${(p.allowedValues as unknown[]).map(show).join(', ')}`);
    case 'pattern': return here(`must match ${p.pattern}`);
    case 'minLength': return here(`must be at least ${plural(p.limit as number, 'character')}`);
    case 'maxLength': return here(`must be at most ${plural(p.limit as number, 'character')}`);
    case 'minimum': return here(`must be at least ${p.limit}`);
    case 'maximum': return here(`must be at most ${p.limit}`);
    case 'exclusiveMinimum': return here(`must be greater than ${p.limit}`);
    case 'exclusiveMaximum': return here(`must be less than ${p.limit}`);
    case 'minItems': return here(`must have at least ${plural(p.limit as number, 'item')}`);
    case 'maxItems': return here(`must have at most ${plural(p.limit as number, 'item')}`);
    case 'minProperties': return here(`must have at least ${plural(p.limit as number, 'entry', 'entries')}`);
    case 'maxProperties': return here(`must have at most ${plural(p.limit as number, 'entry', 'entries')}`);
    default: return here(e.message ?? e.keyword);
  }
}

/** Two items of a list-map (or set) with the same key, as the API server refuses them. */
export function listKeyProblems(value: unknown, schema: SchemaNode, path: string, out: StackProblem[] = []): StackProblem[] {
  if (Array.isArray(value)) {
    const keys = schema['x-kubernetes-list-map-keys'];
    if (schema['x-kubernetes-list-type'] === 'map' && keys) {
      const seen = new Map<string, number>();
      value.forEach((item, i) => {
        if (!item || typeof item !== 'object') return;
        const values = keys.map((k) => (item as Record<string, unknown>)[k]);
        if (values.some((v) => v === undefined)) return;
        const id = JSON.stringify(values);
        const first = seen.get(id);
        if (first === undefined) seen.set(id, i);
        else out.push({ path: joinPath(path, i), message: `duplicate ${keys.map((k, n) => `${k} ${JSON.stringify(values[n])}`).join(', ')} (also at [${first}])` });
      });
    }
    if (schema.items) value.forEach((item, i) => listKeyProblems(item, schema.items!, joinPath(path, i), out));
  } else if (value && typeof value === 'object' && schema.properties) {
    for (const [k, v] of Object.entries(value)) if (schema.properties[k]) listKeyProblems(v, schema.properties[k], joinPath(path, k), out);
  }
  return out;
}

/** Sorted by path, then message: the order both languages report in. */
export function sortProblems(problems: StackProblem[]): StackProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => !seen.has(`${p.path}\0${p.message}`) && seen.add(`${p.path}\0${p.message}`))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
}

/** Every schema problem of a parsed stack document (not yet the CEL rules); empty when it conforms. */
export function schemaProblems(doc: unknown): StackProblem[] {
  const { validate, schema } = stackSchema();
  const out: StackProblem[] = [];
  if (!validate(doc)) {
    for (const e of validate.errors ?? []) {
      // An anyOf reports its branches' failures too; the anyOf's own message says it all.
      if (/\/anyOf\/\d+\//.test(e.schemaPath)) continue;
      const p = toProblem(doc, e);
      if (p) out.push(p);
    }
  }
  return listKeyProblems(doc, schema, '', out);
}

// Checks a value against the OpenAPI v3 structural schema subset our CRD uses, the way the API server
// does before admission: types, required, unknown fields (kubectl's strict field validation), sizes,
// patterns, ranges, enums and list-type keys. CEL rules (x-kubernetes-validations) are not evaluated
// here; run-file.ts mirrors ours. Every problem names its field, e.g. `spec.stages[1].lora.rank`.
import type { GraphProblem } from './plan-graph.ts';

export type FieldProblem = GraphProblem;

/** The keywords of a structural schema that this checker understands. */
export interface StructuralSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema | boolean;
  required?: string[];
  items?: StructuralSchema;
  enum?: unknown[];
  anyOf?: StructuralSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  maxProperties?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

const typeOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

function matchesType(v: unknown, type: StructuralSchema['type']): boolean {
  const t = typeOf(v);
  return !type || t === type || (type === 'number' && t === 'integer');
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** Every problem with `value` under `schema`; empty when it conforms. */
export function checkSchema(value: unknown, schema: StructuralSchema, field: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  const bad = (message: string, at = field): void => { out.push({ field: at, message }); };

  if (schema['x-kubernetes-int-or-string']) {
    if (typeOf(value) !== 'integer' && typeof value !== 'string') bad(`must be an integer or a string, got ${show(value)}`);
  } else if (schema.anyOf && !schema.anyOf.some((s) => checkSchema(value, s, field).length === 0)) {
    bad(`does not match any allowed form (got ${show(value)})`);
  }
  if (!matchesType(value, schema.type)) {
    bad(`must be ${schema.type === 'integer' || schema.type === 'array' || schema.type === 'object' ? 'an' : 'a'} ${schema.type}, got ${typeOf(value)} ${show(value)}`);
    return out;
  }
  if (schema.enum && !schema.enum.includes(value)) bad(`must be one of ${schema.enum.map(show).join(', ')}, got ${show(value)}`);

  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) bad(`must be at least ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) bad(`must be at most ${schema.maxLength} characters`);
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) bad(`${show(value)} does not match ${schema.pattern}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined) {
      if (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum) {
        bad(`must be ${schema.exclusiveMinimum ? 'greater than' : 'at least'} ${schema.minimum}, got ${value}`);
      }
    }
    if (schema.maximum !== undefined && value > schema.maximum) bad(`must be at most ${schema.maximum}, got ${value}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) bad(`must have at least ${schema.minItems} item(s)`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) bad(`must have at most ${schema.maxItems} items`);
    if (schema.items) value.forEach((item, i) => out.push(...checkSchema(item, schema.items!, `${field}[${i}]`)));
    out.push(...checkListKeys(value, schema, field));
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const name of schema.required ?? []) {
      if (obj[name] === undefined || obj[name] === null) bad('required field is missing', `${field}.${name}`);
    }
    const keys = Object.keys(obj);
    if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) bad(`must have at most ${schema.maxProperties} entries`);
    for (const key of keys) {
      const sub = schema.properties?.[key];
      const at = schema.properties || /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${field}.${key}` : `${field}[${JSON.stringify(key)}]`;
      if (obj[key] === null) continue; // null means "unset", as for the API server
      if (sub) out.push(...checkSchema(obj[key], sub, at));
      else if (typeof schema.additionalProperties === 'object') out.push(...checkSchema(obj[key], schema.additionalProperties, at));
      else if (schema.properties && !schema.additionalProperties && !schema['x-kubernetes-preserve-unknown-fields']) bad('unknown field', at);
    }
  }
  return out;
}

function checkListKeys(value: unknown[], schema: StructuralSchema, field: string): FieldProblem[] {
  const type = schema['x-kubernetes-list-type'];
  const keys = schema['x-kubernetes-list-map-keys'];
  if (type !== 'set' && !(type === 'map' && keys)) return [];
  const seen = new Map<string, number>();
  const out: FieldProblem[] = [];
  value.forEach((item, i) => {
    const key = type === 'set' ? JSON.stringify(item) : JSON.stringify(keys!.map((k) => (item as Record<string, unknown>)?.[k]));
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else {
      const what = type === 'set' ? `value ${show(item)}` : keys!.map((k) => `${k} ${show((item as Record<string, unknown>)?.[k])}`).join(', ');
      out.push({ field: `${field}[${i}]`, message: `duplicate ${what} (also at [${first}])` });
    }
  });
  return out;
}

// Reads a StackTrainingRun from a YAML file for the local executor and validates it as the API server
// would: the CRD's own openAPIV3Schema (k8s/base/crd/, so the two cannot drift), then its CEL rules,
// mirrored here, and the full dependsOn graph. An invalid file throws one error listing every problem
// with its field path. The one CEL rule not applied is "every stage needs an image": local runs use none.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { errors, errorMessage } from '../../shared/errors.ts';
import type { StackTrainingRun } from './types.ts';
import { API_VERSION, KIND } from './types.ts';
import { validateGraph } from './plan-graph.ts';
import { checkSchema, type FieldProblem, type StructuralSchema } from './schema-check.ts';

export const CRD_FILE = new URL('../../../k8s/base/crd/stacktrainingruns.fslm.dev.yaml', import.meta.url);
export const DEFAULT_NAMESPACE = 'default';
/** metadata.name: a lowercase RFC 1123 subdomain, as Kubernetes requires of custom resources. */
const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_NAME = 253;

let specSchema: StructuralSchema | undefined;
function crdSpecSchema(): StructuralSchema {
  if (!specSchema) {
    const crd = parseAllDocuments(readFileSync(CRD_FILE, 'utf8'))[0].toJS();
    specSchema = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec as StructuralSchema;
  }
  return specSchema;
}

function celRules(spec: Record<string, any>): FieldProblem[] {
  const out: FieldProblem[] = [];
  const stages: Record<string, any>[] = Array.isArray(spec.stages) ? spec.stages.filter((s: unknown) => s && typeof s === 'object') : [];
  if (stages.every((s) => typeof s.name === 'string')) {
    out.push(...validateGraph(stages.map((s) => ({ name: s.name, dependsOn: Array.isArray(s.dependsOn) ? s.dependsOn : [] }))));
  }
  const retry = spec.retry ?? {};
  if (typeof retry.maxBackoffSeconds === 'number' && typeof retry.backoffSeconds === 'number' && retry.maxBackoffSeconds < retry.backoffSeconds) {
    out.push({ field: 'spec.retry.maxBackoffSeconds', message: 'maxBackoffSeconds must be at least backoffSeconds' });
  }
  if (spec.rollout?.stage !== undefined && !stages.some((s) => s.name === spec.rollout.stage)) {
    out.push({ field: 'spec.rollout.stage', message: 'spec.rollout.stage must name a stage in spec.stages' });
  }
  return out;
}

/** Every problem with a parsed object as a StackTrainingRun; empty when valid. */
export function validateRunObject(obj: unknown): FieldProblem[] {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return [{ field: '(root)', message: 'must be a YAML mapping (a StackTrainingRun object)' }];
  const o = obj as Record<string, any>;
  const out: FieldProblem[] = [];
  if (o.apiVersion !== API_VERSION) out.push({ field: 'apiVersion', message: `must be ${API_VERSION}, got ${JSON.stringify(o.apiVersion)}` });
  if (o.kind !== KIND) out.push({ field: 'kind', message: `must be ${KIND}, got ${JSON.stringify(o.kind)}` });
  const name = o.metadata?.name;
  if (typeof name !== 'string' || name === '') out.push({ field: 'metadata.name', message: 'required field is missing' });
  else if (name.length > MAX_NAME || !NAME_PATTERN.test(name)) {
    out.push({ field: 'metadata.name', message: `"${name}" must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.'; at most ${MAX_NAME} characters)` });
  }
  const ns = o.metadata?.namespace;
  if (ns !== undefined && (typeof ns !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63)) {
    out.push({ field: 'metadata.namespace', message: `${JSON.stringify(ns)} must be a lowercase RFC 1123 label` });
  }
  if (o.spec === undefined || o.spec === null) return [...out, { field: 'spec', message: 'required field is missing' }];
  const schemaProblems = checkSchema(o.spec, crdSpecSchema(), 'spec');
  out.push(...schemaProblems);
  if (typeof o.spec === 'object' && !Array.isArray(o.spec)) out.push(...celRules(o.spec));
  // One problem per field is enough (a graph problem can repeat a schema one).
  const seen = new Set<string>();
  return out.filter((p) => !seen.has(`${p.field}\0${p.message}`) && seen.add(`${p.field}\0${p.message}`));
}

export const formatProblems = (file: string, problems: readonly FieldProblem[]): string =>
  `${file} is not a valid ${KIND}:\n${problems.map((p) => `  ${p.field}: ${p.message}`).join('\n')}`;

/** Parses and validates RUN.yaml; throws InvalidArgument (every problem, with its field) when it is not a valid run. */
export async function loadRunFile(file: string): Promise<StackTrainingRun> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw errors.invalidArgument(`cannot read ${file}: ${errorMessage(e)}`);
  }
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const real = list.filter((d) => d.contents !== null);
  if (real.length !== 1) throw errors.invalidArgument(`${file}: expected one YAML document, found ${real.length}`);
  const doc = real[0];
  if (doc.errors.length > 0) throw errors.invalidArgument(`${file}: YAML syntax error: ${doc.errors[0].message}`);
  const obj = doc.toJS();
  const problems = validateRunObject(obj);
  if (problems.length > 0) throw errors.invalidArgument(formatProblems(file, problems), problems[0].field);
  const meta = obj.metadata;
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name: meta.name,
      namespace: meta.namespace ?? DEFAULT_NAMESPACE,
      uid: typeof meta.uid === 'string' ? meta.uid : '',
      generation: 1,
      labels: meta.labels,
      annotations: meta.annotations,
    },
    spec: obj.spec,
  };
}

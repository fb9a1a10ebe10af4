// The stage graph of a run: validation (duplicates, unknown dependsOn, cycles) and a stable
// topological order. Pure; shared by the operator and the local executor.

export interface StageNode {
  name: string;
  dependsOn?: string[];
}

export interface GraphProblem {
  /** JSON-ish path of the offending field, e.g. `spec.stages[2].dependsOn[0]`. */
  field: string;
  message: string;
}

/** Every problem with the graph, each with its field path; empty when the graph is a DAG. */
export function validateGraph(stages: readonly StageNode[]): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const names = new Set<string>();
  stages.forEach((s, i) => {
    if (names.has(s.name)) problems.push({ field: `spec.stages[${i}].name`, message: `duplicate stage name "${s.name}"` });
    names.add(s.name);
  });
  stages.forEach((s, i) => {
    (s.dependsOn ?? []).forEach((d, j) => {
      const field = `spec.stages[${i}].dependsOn[${j}]`;
      if (d === s.name) problems.push({ field, message: `stage "${s.name}" depends on itself` });
      else if (!names.has(d)) problems.push({ field, message: `stage "${s.name}" depends on unknown stage "${d}"` });
    });
  });
  const cycle = findCycle(stages);
  if (cycle && new Set(cycle).size > 1) {
    problems.push({ field: 'spec.stages', message: `dependsOn has a cycle: ${cycle.join(' -> ')}` });
  }
  return problems;
}

/** One cycle as a closed path (`a -> b -> a`), or undefined when there is none. Unknown names are ignored. */
export function findCycle(stages: readonly StageNode[]): string[] | undefined {
  const deps = new Map(stages.map((s) => [s.name, s.dependsOn ?? []]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'open') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'open');
    path.push(name);
    for (const d of deps.get(name) ?? []) {
      if (!deps.has(d)) continue;
      const found = visit(d);
      if (found) return found;
    }
    path.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const s of stages) {
    const found = visit(s.name);
    if (found) return found;
  }
  return undefined;
}

/**
 * Stage names in an order where every stage comes after those it depends on. Ties keep the spec's
 * order, so the result is stable. Throws on a cycle: validate first.
 */
export function topologicalOrder(stages: readonly StageNode[]): string[] {
  const known = new Set(stages.map((s) => s.name));
  const remaining = new Map(stages.map((s) => [s.name, new Set((s.dependsOn ?? []).filter((d) => known.has(d)))]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const next = stages.find((s) => remaining.get(s.name)?.size === 0);
    if (!next) throw new Error(`dependsOn has a cycle: ${findCycle(stages)?.join(' -> ')}`);
    order.push(next.name);
    remaining.delete(next.name);
    for (const deps of remaining.values()) deps.delete(next.name);
  }
  return order;
}

/** Stages whose dependencies have all succeeded and that have not started, in spec order. */
export function readyStages(stages: readonly StageNode[], isDone: (name: string) => boolean, hasStarted: (name: string) => boolean): string[] {
  return stages
    .filter((s) => !hasStarted(s.name) && (s.dependsOn ?? []).every(isDone))
    .map((s) => s.name);
}

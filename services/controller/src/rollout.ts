// The rollout: when a run succeeds, the named Stack's stage serves the model the run's stage wrote.
// Only that stage's `model` changes (a JSON patch guarded by a test of the stage's name, so a Stack
// edited meanwhile is never patched at the wrong index); the Stack reconciler then rolls that stage's
// Deployment, and the Stack's status reports the new model once its pods are ready.
import type { Cluster } from './cluster.ts';
import type { RolloutSpec, RolloutStatus } from './types.ts';

/** Applies the rollout and says what happened; throws only on errors worth retrying. */
export async function applyRollout(cluster: Cluster, runNamespace: string, spec: RolloutSpec, model: string, now: Date): Promise<RolloutStatus> {
  const namespace = spec.target.namespace ?? runNamespace;
  const stage = spec.target.stage ?? spec.stage;
  const base = { stage: spec.stage, target: `Stack/${namespace}/${spec.target.stack} stage ${stage}`, model, time: now.toISOString() };
  const stages = await cluster.stackStages(namespace, spec.target.stack);
  if (!stages) return { ...base, phase: 'Failed', message: `Stack ${namespace}/${spec.target.stack} not found` };
  const index = stages.indexOf(stage);
  if (index < 0) return { ...base, phase: 'Failed', message: `Stack ${namespace}/${spec.target.stack} has no stage "${stage}" (its stages: ${stages.join(', ')})` };
  await cluster.setStackStageModel(namespace, spec.target.stack, index, stage, model);
  return { ...base, phase: 'Succeeded', message: `stage ${stage} of Stack ${namespace}/${spec.target.stack} now serves ${model}` };
}

// The per-stage rollout: when a run succeeds, point one serving workload (a Deployment or StatefulSet
// running `fslm stage`) at the new model version by patching its pod template, which rolls its pods.
import type { RolloutSpec, RolloutStatus } from './types.ts';
import type { Cluster } from './cluster.ts';
import { DEFAULT_ROLLOUT_ENV } from './defaults.ts';
import { Annotation } from './types.ts';

/** Strategic merge patch: an annotation on the pod template, and the model env var in one container. */
export function rolloutPatch(container: string, envName: string, model: string, run: string): object {
  return {
    spec: {
      template: {
        metadata: { annotations: { [Annotation.Model]: model, [Annotation.TrainingRun]: run } },
        spec: { containers: [{ name: container, env: [{ name: envName, value: model }] }] },
      },
    },
  };
}

/** Applies the rollout and says what happened; throws only on errors worth retrying. */
export async function applyRollout(cluster: Cluster, runNamespace: string, runName: string, spec: RolloutSpec, model: string, now: Date): Promise<RolloutStatus> {
  const { kind, name } = spec.target;
  const namespace = spec.target.namespace ?? runNamespace;
  const base = { stage: spec.stage, target: `${kind}/${namespace}/${name}`, model, time: now.toISOString() };
  const containers = await cluster.workloadContainers(kind, namespace, name);
  if (!containers) return { ...base, phase: 'Failed', message: `${kind} ${namespace}/${name} not found` };
  const container = spec.target.container ?? containers[0];
  if (!container || !containers.includes(container)) {
    return { ...base, phase: 'Failed', message: `${kind} ${namespace}/${name} has no container "${container ?? ''}"` };
  }
  await cluster.patchWorkload(kind, namespace, name, rolloutPatch(container, spec.env ?? DEFAULT_ROLLOUT_ENV, model, `${runNamespace}/${runName}`));
  return { ...base, phase: 'Succeeded', message: `container ${container} now serves ${model}` };
}

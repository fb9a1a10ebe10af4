// A stage's serving settings, resolved: the stage's own field, else spec.defaults, else the cluster
// profile the controller runs with (its flags: the image, NATS, and whether stage pods take GPUs).
import { createHash } from 'node:crypto';
import type { Stack, StackStageSpec } from './stack-types.ts';
import type { ResourceRequirements, Toleration } from './types.ts';
import { DEFAULT_GPU_RESOURCE } from './defaults.ts';
import type { NetworkProfile } from './stack-network.ts';

/** Cluster-wide settings of stack serving, from `fslm controller` flags. */
export interface ServingProfile {
  /** The fslm image: `fslm stage`, `fslm router` and `fslm model fetch`. */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  natsUrl: string;
  /** nvidia.com/gpu per stage pod unless a stack says otherwise; 0 on a cluster without GPUs. */
  stageGpus: number;
  /** NetworkPolicies and the collector (default DEFAULT_NETWORK: policies on, no collector). */
  network?: NetworkProfile;
}

export const DEFAULT_IMAGE = 'ghcr.io/fslm/fslm:0.1.0';
export const DEFAULT_NATS_URL = 'nats://nats.fslm-system.svc:4222';
export const DEFAULT_REPLICAS = 1;
export const DEFAULT_PRECISION = 'fp32';
/** The Deployment's progressDeadlineSeconds: how long a stage may take to become ready before it is Degraded. */
export const DEFAULT_START_TIMEOUT_SECONDS = 600;
export const DEFAULT_SPREAD_KEY = 'topology.kubernetes.io/zone';
export const DEFAULT_STORE_MOUNT = '/models';
const STAGE_REQUESTS = { cpu: '500m', memory: '1Gi' };

export interface ResolvedServing {
  model: string;
  replicas: number;
  precision: string;
  resources: ResourceRequirements;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  oneStagePerNode: boolean;
  spreadTopologyKey: string;
  startTimeoutSeconds: number;
}

/** The settings one stage is served with. */
export function resolveServing(stack: Stack, stage: StackStageSpec, profile: ServingProfile): ResolvedServing {
  const d = stack.spec.defaults ?? {};
  const gpu = profile.stageGpus > 0;
  const placement = { ...(d.placement ?? {}), ...(stage.placement ?? {}) };
  return {
    model: modelUri(stack, stage.model ?? d.model ?? ''),
    replicas: stage.replicas ?? d.replicas ?? DEFAULT_REPLICAS,
    precision: stage.precision ?? d.precision ?? DEFAULT_PRECISION,
    resources: stage.resources ?? d.resources ?? (gpu
      ? { limits: { [DEFAULT_GPU_RESOURCE]: profile.stageGpus }, requests: STAGE_REQUESTS }
      : { requests: STAGE_REQUESTS }),
    nodeSelector: stage.nodeSelector ?? d.nodeSelector,
    tolerations: stage.tolerations ?? d.tolerations ?? (gpu ? [{ key: DEFAULT_GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }] : undefined),
    oneStagePerNode: placement.oneStagePerNode ?? gpu,
    spreadTopologyKey: placement.spreadTopologyKey ?? DEFAULT_SPREAD_KEY,
    startTimeoutSeconds: stage.startTimeoutSeconds ?? d.startTimeoutSeconds ?? DEFAULT_START_TIMEOUT_SECONDS,
  };
}

/**
 * The URI the fetch step reads: a URI as it is; a plain name (as on one machine: `smollm2-135m-onnx`)
 * names an artifact directory on the store's volume, file://<mountPath>/<name>.
 */
export function modelUri(stack: Stack, model: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(model)) return model;
  const mount = (stack.spec.store?.mountPath ?? DEFAULT_STORE_MOUNT).replace(/\/+$/, '');
  return `file://${mount}/${model.replace(/^\/+/, '')}`;
}

const MAX_NAME = 63;

/**
 * `<stack>-<suffix>` as a child object's name: a DNS-1035 label (Services need one), so `fslm-` goes
 * in front of a name that starts with a digit, and a long one is cut with a hash of the whole.
 */
export function childName(stack: string, suffix: string): string {
  const full = /^[0-9]/.test(stack) ? `fslm-${stack}-${suffix}` : `${stack}-${suffix}`;
  if (full.length <= MAX_NAME) return full;
  const hash = createHash('sha256').update(`${stack}/${suffix}`).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_NAME - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/** A short, stable hash of an object (its JSON with sorted keys). */
export function objectHash(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
    return v;
  };
  return createHash('sha256').update(JSON.stringify(sorted(value))).digest('hex').slice(0, 16);
}

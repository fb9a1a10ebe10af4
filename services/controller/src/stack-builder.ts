// Builds what a Stack runs on the cluster, as plain objects (pure; the reconciler applies them): per
// stage a Deployment of `fslm stage` (an init step fetching and checking its model, gRPC health
// probes, GPUs, placement, a rolling update that never drops to zero ready) and a
// PodDisruptionBudget; the router's ServiceAccount, RoleBinding, Deployment and Service; the
// NetworkPolicies of stack-network.ts; trust from Secrets (stack-trust.ts). Every
// object is owned by the Stack (deleting it deletes them) and carries a hash of itself.
import type {
  KubernetesObject, V1Container, V1Deployment, V1EnvVar, V1PodDisruptionBudget, V1PodSpec, V1RoleBinding, V1Service, V1ServiceAccount, V1Volume, V1VolumeMount,
} from '@kubernetes/client-node';
import type { Stack, StackStageSpec } from './stack-types.ts';
import { ROUTER_CLUSTER_ROLE } from './permissions.ts';
import { childName, DEFAULT_STORE_MOUNT, objectHash, resolveServing, type ResolvedServing, type ServingProfile } from './stack-serving.ts';
import { StackAnnotation, StackLabel } from './stack-types.ts';
import { grpcProbeHandler, routerTrust, stageTrust } from './stack-trust.ts';
import { collectorEnv, DEFAULT_NETWORK, networkPolicies } from './stack-network.ts';
import { Label, MANAGED_BY } from './types.ts';

export const STAGE_CONTAINER = 'stage';
export const FETCH_CONTAINER = 'fetch-model';
export const ROUTER_CONTAINER = 'router';
/** The pod's emptyDir: the fetch step writes the model (and its temporary copy) here, the stage reads it. */
export const MODEL_VOLUME_PATH = '/var/lib/fslm';
export const MODEL_DIR = `${MODEL_VOLUME_PATH}/model`;
/**
 * Where the fetch step writes `{"version","uri"}` once the model is fetched and checked: the init
 * container's terminationMessagePath, which the kubelet reports in the pod's status (stack-status.ts reads it).
 */
export const FETCH_TERMINATION_MESSAGE_PATH = '/dev/termination-log';
export const STAGE_GRPC_PORT = 50051;
export const ROUTER_GRPC_PORT = 50050;
export const ROUTER_HTTP_PORT = 8080;
export const METRICS_PORT = 9464;
const STAGE_SERVICE = 'fslm.v1.StageService';
/** The stage's health service that stays SERVING while its process lives (services/stage/src/stage-health.ts). */
const STAGE_LIVENESS_SERVICE = 'liveness';
const ROUTER_SERVICE = 'fslm.v1.StackService';
/** The node image's user (node:20-bookworm-slim). */
const RUN_AS_USER = 1000;

const quantities = (q: Record<string, string | number> | undefined): Record<string, string> | undefined =>
  q ? Object.fromEntries(Object.entries(q).map(([k, v]) => [k, String(v)])) : undefined;

export function stageLabels(stack: string, stage: string): Record<string, string> {
  return { [StackLabel.Stack]: stack, [StackLabel.Stage]: stage };
}

export function routerLabels(stack: string): Record<string, string> {
  return { [StackLabel.Stack]: stack, [StackLabel.Component]: 'router' };
}

function meta(stack: Stack, name: string, labels: Record<string, string>, component: string) {
  return {
    name,
    namespace: stack.metadata.namespace,
    labels: {
      ...labels, [StackLabel.Name]: `fslm-${component}`, [StackLabel.Instance]: stack.metadata.name,
      [StackLabel.Component]: component, [Label.ManagedBy]: MANAGED_BY,
    },
    ownerReferences: [{ apiVersion: stack.apiVersion, kind: stack.kind, name: stack.metadata.name, uid: stack.metadata.uid, controller: true, blockOwnerDeletion: true }],
  };
}

const POD_SECURITY = { runAsNonRoot: true, runAsUser: RUN_AS_USER, runAsGroup: RUN_AS_USER, fsGroup: RUN_AS_USER, seccompProfile: { type: 'RuntimeDefault' } };
const CONTAINER_SECURITY = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
const POD_NAME_ENV: V1EnvVar = { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };

/**
 * The init step: `fslm model fetch URI DIR` downloads the artifact, checks every sha256 of its fslm.json
 * and writes the version it fetched to its termination message (a failed fetch's log is reported instead).
 */
function fetchContainer(stack: Stack, serving: ResolvedServing, profile: ServingProfile): { container: V1Container; volumes: V1Volume[] } {
  const store = stack.spec.store ?? {};
  const mounts: V1VolumeMount[] = [{ name: 'model', mountPath: MODEL_VOLUME_PATH }, { name: 'tmp', mountPath: '/tmp' }];
  const volumes: V1Volume[] = [];
  if (store.persistentVolumeClaim) {
    volumes.push({ name: 'store', persistentVolumeClaim: { claimName: store.persistentVolumeClaim, readOnly: true } });
    mounts.push({ name: 'store', mountPath: store.mountPath ?? DEFAULT_STORE_MOUNT, readOnly: true });
  }
  return {
    volumes,
    container: {
      name: FETCH_CONTAINER,
      image: profile.image,
      imagePullPolicy: profile.imagePullPolicy,
      args: ['model', 'fetch', serving.model, MODEL_DIR, '--termination-message', FETCH_TERMINATION_MESSAGE_PATH],
      // The root filesystem is read-only: any cache the fetch keeps goes to /tmp.
      env: [{ name: 'FSLM_CACHE', value: '/tmp/fslm-cache' }, ...(store.env ?? []).map((e) => ({ name: e.name, value: e.value }))],
      envFrom: store.envFrom?.map((e) => ({ prefix: e.prefix, secretRef: e.secretRef, configMapRef: e.configMapRef })),
      volumeMounts: mounts,
      resources: { requests: { cpu: '100m', memory: '256Mi' } },
      securityContext: CONTAINER_SECURITY,
      terminationMessagePath: FETCH_TERMINATION_MESSAGE_PATH,
      terminationMessagePolicy: 'FallbackToLogsOnError',
    },
  };
}

/** A probe's timeout: an exec probe (`fslm health` over TLS) starts a process, so it gets longer than the native one (1 s). */
const probeTimeout = (stack: Stack): { timeoutSeconds?: number } => (stack.spec.tls ? { timeoutSeconds: 5 } : {});

/** Under spec.tls the stage's /metrics and the router's HTTP door serve HTTPS: scrapers read the scheme here. */
function metricsScheme(stack: Stack): Record<string, string> {
  return stack.spec.tls ? { 'prometheus.io/scheme': 'https' } : {};
}

function stageContainer(stack: Stack, stage: StackStageSpec, serving: ResolvedServing, profile: ServingProfile): V1Container {
  const check = grpcProbeHandler(stack, STAGE_GRPC_PORT, STAGE_SERVICE);
  const timeout = probeTimeout(stack);
  const trust = stageTrust(stack, stage);
  return {
    name: STAGE_CONTAINER,
    image: profile.image,
    imagePullPolicy: profile.imagePullPolicy,
    args: [
      'stage', '--model', MODEL_DIR, '--precision', serving.precision, '--grpc', `0.0.0.0:${STAGE_GRPC_PORT}`, '--metrics', `0.0.0.0:${METRICS_PORT}`,
      '--nats', profile.natsUrl, '--stack', stack.metadata.name, '--stage', stage.name, '--replica', '$(POD_NAME)',
      ...(stage.subject ? ['--subject', stage.subject] : []), ...trust.args,
    ],
    env: [POD_NAME_ENV, ...collectorEnv(profile.network)],
    ports: [{ name: 'grpc', containerPort: STAGE_GRPC_PORT }, { name: 'metrics', containerPort: METRICS_PORT }],
    // The stage listens only once its model is loaded and verified, and reports SERVING once NATS holds its
    // subscriptions, so no readiness probe passes before that; the startup probe gives a large model time to load.
    startupProbe: { ...check, periodSeconds: 5, ...timeout, failureThreshold: 120 },
    readinessProbe: { ...check, periodSeconds: 5, ...timeout, failureThreshold: 2 },
    // Liveness is the process answering, not its readiness: a stage whose NATS server is away is not ready, but not restarted.
    livenessProbe: { ...grpcProbeHandler(stack, STAGE_GRPC_PORT, STAGE_LIVENESS_SERVICE), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    resources: { limits: quantities(serving.resources.limits), requests: quantities(serving.resources.requests) },
    volumeMounts: [{ name: 'model', mountPath: MODEL_VOLUME_PATH, readOnly: true }, { name: 'tmp', mountPath: '/tmp' }, ...trust.mounts],
    securityContext: CONTAINER_SECURITY,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

function placement(stack: string, stage: string, serving: ResolvedServing): Pick<V1PodSpec, 'affinity' | 'topologySpreadConstraints'> {
  // One stage pod per node: no two pods of any stage (of any stack in the namespace) share a node.
  const term = { labelSelector: { matchLabels: { [StackLabel.Component]: 'stage' } }, topologyKey: 'kubernetes.io/hostname' };
  return {
    affinity: serving.oneStagePerNode
      ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } }
      // Otherwise replicas of one stage still prefer different nodes.
      : { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { ...term, labelSelector: { matchLabels: stageLabels(stack, stage) } } }] } },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: serving.spreadTopologyKey, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: stageLabels(stack, stage) } }],
  };
}

export function stageDeployment(stack: Stack, stage: StackStageSpec, profile: ServingProfile): V1Deployment {
  const name = stack.metadata.name;
  const serving = resolveServing(stack, stage, profile);
  const labels = stageLabels(name, stage.name);
  const fetch = fetchContainer(stack, serving, profile);
  const m = meta(stack, childName(name, stage.name), labels, 'stage');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: m,
    spec: {
      replicas: serving.replicas,
      selector: { matchLabels: labels },
      // A new pod must be ready before an old one goes: a stage never drops to zero ready replicas.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      progressDeadlineSeconds: serving.startTimeoutSeconds,
      revisionHistoryLimit: 3,
      template: {
        metadata: {
          labels: m.labels,
          annotations: { [StackAnnotation.Model]: serving.model, 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(METRICS_PORT), ...metricsScheme(stack) },
        },
        spec: {
          automountServiceAccountToken: false,
          securityContext: POD_SECURITY,
          nodeSelector: serving.nodeSelector,
          tolerations: serving.tolerations,
          ...placement(name, stage.name, serving),
          initContainers: [fetch.container],
          containers: [stageContainer(stack, stage, serving, profile)],
          volumes: [{ name: 'model', emptyDir: {} }, { name: 'tmp', emptyDir: {} }, ...fetch.volumes, ...stageTrust(stack, stage).volumes],
          terminationGracePeriodSeconds: 30,
        },
      },
    },
  };
}

export function stagePdb(stack: Stack, stage: StackStageSpec, profile: ServingProfile): V1PodDisruptionBudget {
  const replicas = resolveServing(stack, stage, profile).replicas;
  const labels = stageLabels(stack.metadata.name, stage.name);
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(stack, childName(stack.metadata.name, stage.name), labels, 'stage'),
    // Evictions (node drains) may take one pod at a time, and never a stage's last ready one.
    spec: { maxUnavailable: replicas > 1 ? 1 : 0, selector: { matchLabels: labels } },
  };
}

export function routerObjects(stack: Stack, profile: ServingProfile): [V1ServiceAccount, V1RoleBinding, V1Deployment, V1Service] {
  const name = stack.metadata.name;
  const ns = stack.metadata.namespace;
  const labels = routerLabels(name);
  const objName = childName(name, 'router');
  const m = meta(stack, objName, labels, 'router');
  const r = stack.spec.router ?? {};
  const check = grpcProbeHandler(stack, ROUTER_GRPC_PORT, ROUTER_SERVICE);
  const trust = routerTrust(stack);
  const sa: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: m };
  // The router reads its Stack from the API (it follows changes without a restart).
  const binding: V1RoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: m,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: ROUTER_CLUSTER_ROLE },
    subjects: [{ kind: 'ServiceAccount', name: objName, namespace: ns }],
  };
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: m,
    spec: {
      replicas: r.replicas ?? 1,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: m.labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(ROUTER_HTTP_PORT), 'prometheus.io/path': '/metrics', ...metricsScheme(stack) } },
        spec: {
          serviceAccountName: objName,
          securityContext: POD_SECURITY,
          nodeSelector: r.nodeSelector,
          containers: [{
            name: ROUTER_CONTAINER,
            image: profile.image,
            imagePullPolicy: profile.imagePullPolicy,
            args: ['router', '--k8s-namespace', ns, '--k8s-stack', name, '--nats', profile.natsUrl,
              '--grpc', `0.0.0.0:${ROUTER_GRPC_PORT}`, '--http', `0.0.0.0:${ROUTER_HTTP_PORT}`, ...trust.args],
            env: collectorEnv(profile.network).length ? collectorEnv(profile.network) : undefined,
            ports: [{ name: 'grpc', containerPort: ROUTER_GRPC_PORT }, { name: 'http', containerPort: ROUTER_HTTP_PORT }],
            readinessProbe: { ...check, periodSeconds: 5, ...probeTimeout(stack) },
            livenessProbe: { ...check, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
            resources: { limits: quantities(r.resources?.limits), requests: quantities(r.resources?.requests) ?? { cpu: '250m', memory: '256Mi' } },
            securityContext: CONTAINER_SECURITY,
            volumeMounts: trust.mounts.length ? trust.mounts : undefined,
          }],
          volumes: trust.volumes.length ? trust.volumes : undefined,
        },
      },
    },
  };
  const service: V1Service = {
    apiVersion: 'v1', kind: 'Service', metadata: m,
    spec: {
      selector: labels,
      ports: [{ name: 'grpc', port: ROUTER_GRPC_PORT, targetPort: 'grpc', appProtocol: 'grpc' }, { name: 'http', port: ROUTER_HTTP_PORT, targetPort: 'http' }],
    },
  };
  return [sa, binding, deployment, service];
}

/** Everything the Stack should have on the cluster, each with its hash annotation. */
export function desiredObjects(stack: Stack, profile: ServingProfile): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const stage of stack.spec.stages) objects.push(stageDeployment(stack, stage, profile), stagePdb(stack, stage, profile));
  objects.push(...routerObjects(stack, profile));
  objects.push(...networkPolicies(stack, profile.natsUrl, profile.network ?? DEFAULT_NETWORK,
    { stageMetrics: METRICS_PORT, routerGrpc: ROUTER_GRPC_PORT, routerHttp: ROUTER_HTTP_PORT },
    (n) => meta(stack, n, { [StackLabel.Stack]: stack.metadata.name }, 'network-policy')));
  // The JSON round trip drops undefined fields, so the object applied is the object hashed.
  return objects.map((o) => {
    const plain = JSON.parse(JSON.stringify(o)) as KubernetesObject;
    plain.metadata!.annotations = { ...(plain.metadata!.annotations ?? {}), [StackAnnotation.AppliedHash]: objectHash(plain) };
    return plain;
  });
}

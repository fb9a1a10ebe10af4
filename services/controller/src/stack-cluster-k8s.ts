// What the Stack reconciler reads and writes: restarting informers on Stacks and on the Deployments,
// Services, PodDisruptionBudgets, NetworkPolicies and Pods they own (their caches answer reads, their events fill the
// work queue), server-side apply for children, and the status subresource; every call but the
// watches is bounded by apiTimeoutMs.
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, PatchStrategy, PolicyV1Api, RbacAuthorizationV1Api, setHeaderOptions,
  type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Deployment, type V1Pod, type V1PodDisruptionBudget, type V1Service,
} from '@kubernetes/client-node';
import { boundedCall, DEFAULT_API_TIMEOUT_MS } from './api-timeout.ts';
import { RestartingInformer } from '../../shared/k8s-informer.ts';
import type { Stack, StackStatus } from './stack-types.ts';
import { ConflictError } from './cluster.ts';
import { FIELD_MANAGER } from './cluster-k8s.ts';
import { STACK_PLURAL, StackLabel } from './stack-types.ts';
import { GROUP, Label, MANAGED_BY, VERSION } from './types.ts';

/** What reconcile needs; stack-cluster-fake in the tests is the in-memory one. */
export interface StackCluster {
  getStack(namespace: string, name: string): Stack | undefined;
  /** Cached children of the Stack (by owner uid). */
  deploymentsOf(stack: Stack): V1Deployment[];
  podsOf(stack: Stack): V1Pod[];
  /** The cached child of that kind and name, if the informers know it. */
  cached(kind: string, namespace: string, name: string): KubernetesObject | undefined;
  /** Server-side apply (create or update) of a child. */
  apply(obj: KubernetesObject): Promise<void>;
  /** Cached children of the Stack that a stage owns: its Deployments and PodDisruptionBudgets (by owner uid). */
  stageChildrenOf(stack: Stack): KubernetesObject[];
  /** Cached NetworkPolicies of the Stack (by owner uid). */
  networkPoliciesOf(stack: Stack): KubernetesObject[];
  /** Deletes a child (only the one with that uid; gone already is fine). */
  remove(obj: KubernetesObject): Promise<void>;
  /** Writes the status subresource; ConflictError when the Stack changed since it was read. */
  updateStatus(stack: Stack, status: StackStatus): Promise<void>;
}

const statusCode = (e: unknown): number | undefined => {
  const err = e as { code?: unknown; statusCode?: unknown };
  return typeof err?.code === 'number' ? err.code : typeof err?.statusCode === 'number' ? err.statusCode : undefined;
};

const ownedBy = (o: KubernetesObject, uid: string): boolean => o.metadata?.ownerReferences?.some((r) => r.uid === uid) ?? false;

/** Children are selected by these labels: only what this controller made for a stack. */
const CHILD_SELECTOR = `${StackLabel.Stack},${Label.ManagedBy}=${MANAGED_BY}`;

export interface K8sStackClusterOptions {
  kubeConfig: KubeConfig;
  namespace?: string;
  /** Called with `namespace/name` of the Stack an event concerns. */
  enqueue: (key: string) => void;
  onInformerRestart?: (name: string, error: string, delayMs: number) => void;
  /** Bound on each API call but the watches (default DEFAULT_API_TIMEOUT_MS). */
  apiTimeoutMs?: number;
}

type Apply = (namespace: string, name: string, body: KubernetesObject) => Promise<unknown>;
type Remove = (namespace: string, name: string, uid: string) => Promise<unknown>;

export class K8sStackCluster implements StackCluster {
  private readonly custom: CustomObjectsApi;
  /** Server-side apply per kind the builder makes. */
  private readonly appliers: Record<string, Apply>;
  private readonly removers: Record<string, Remove>;
  private readonly timeoutMs: number;
  private readonly stacks: RestartingInformer<KubernetesObject>;
  private readonly deployments: RestartingInformer<V1Deployment>;
  private readonly services: RestartingInformer<V1Service>;
  private readonly pdbs: RestartingInformer<V1PodDisruptionBudget>;
  private readonly pods: RestartingInformer<V1Pod>;
  private readonly policies: RestartingInformer<KubernetesObject>;

  constructor(opts: K8sStackClusterOptions) {
    const kc = opts.kubeConfig;
    this.custom = kc.makeApiClient(CustomObjectsApi);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const policy = kc.makeApiClient(PolicyV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const networking = kc.makeApiClient(NetworkingV1Api);
    this.timeoutMs = opts.apiTimeoutMs ?? DEFAULT_API_TIMEOUT_MS;
    const bounded = () => boundedCall(this.timeoutMs);
    const ssa = () => boundedCall(this.timeoutMs, undefined, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply));
    const args = (namespace: string, name: string, body: KubernetesObject) => ({ namespace, name, body, fieldManager: FIELD_MANAGER, force: true });
    this.appliers = {
      Deployment: (ns, n, b) => apps.patchNamespacedDeployment(args(ns, n, b), ssa()),
      PodDisruptionBudget: (ns, n, b) => policy.patchNamespacedPodDisruptionBudget(args(ns, n, b), ssa()),
      Service: (ns, n, b) => core.patchNamespacedService(args(ns, n, b), ssa()),
      ServiceAccount: (ns, n, b) => core.patchNamespacedServiceAccount(args(ns, n, b), ssa()),
      RoleBinding: (ns, n, b) => rbac.patchNamespacedRoleBinding(args(ns, n, b), ssa()),
      NetworkPolicy: (ns, n, b) => networking.patchNamespacedNetworkPolicy(args(ns, n, b), ssa()),
    };
    const del = (namespace: string, name: string, uid: string) => ({ namespace, name, propagationPolicy: 'Background', body: { preconditions: { uid } } });
    this.removers = {
      Deployment: (ns, n, uid) => apps.deleteNamespacedDeployment(del(ns, n, uid), bounded()),
      PodDisruptionBudget: (ns, n, uid) => policy.deleteNamespacedPodDisruptionBudget(del(ns, n, uid), bounded()),
      NetworkPolicy: (ns, n, uid) => networking.deleteNamespacedNetworkPolicy(del(ns, n, uid), bounded()),
    };
    const ns = opts.namespace;
    const nsPath = ns ? `/namespaces/${ns}` : '';
    const byLabel = (o: KubernetesObject): void => {
      const stack = o.metadata?.labels?.[StackLabel.Stack];
      if (stack && o.metadata?.namespace) opts.enqueue(`${o.metadata.namespace}/${stack}`);
    };
    const common = { kubeConfig: kc, onChange: byLabel, onRestart: opts.onInformerRestart };
    const selected = { labelSelector: CHILD_SELECTOR };
    this.stacks = new RestartingInformer<KubernetesObject>({
      name: 'stacks', kubeConfig: kc, path: `/apis/${GROUP}/${VERSION}${nsPath}/${STACK_PLURAL}`,
      list: async () => (ns
        ? await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: STACK_PLURAL }, bounded())
        : await this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: STACK_PLURAL }, bounded())) as KubernetesListObject<KubernetesObject>,
      onChange: (s) => opts.enqueue(`${s.metadata?.namespace}/${s.metadata?.name}`),
      onRestart: opts.onInformerRestart,
    });
    this.deployments = new RestartingInformer<V1Deployment>({
      ...common, ...selected, name: 'stack-deployments', path: `/apis/apps/v1${nsPath}/deployments`,
      list: () => (ns ? apps.listNamespacedDeployment({ namespace: ns, ...selected }, bounded()) : apps.listDeploymentForAllNamespaces(selected, bounded())),
    });
    this.services = new RestartingInformer<V1Service>({
      ...common, ...selected, name: 'stack-services', path: `/api/v1${nsPath}/services`,
      list: () => (ns ? core.listNamespacedService({ namespace: ns, ...selected }, bounded()) : core.listServiceForAllNamespaces(selected, bounded())),
    });
    this.pdbs = new RestartingInformer<V1PodDisruptionBudget>({
      ...common, ...selected, name: 'stack-pdbs', path: `/apis/policy/v1${nsPath}/poddisruptionbudgets`,
      list: () => (ns ? policy.listNamespacedPodDisruptionBudget({ namespace: ns, ...selected }, bounded()) : policy.listPodDisruptionBudgetForAllNamespaces(selected, bounded())),
    });
    this.pods = new RestartingInformer<V1Pod>({
      ...common, ...selected, name: 'stack-pods', path: `/api/v1${nsPath}/pods`,
      list: () => (ns ? core.listNamespacedPod({ namespace: ns, ...selected }, bounded()) : core.listPodForAllNamespaces(selected, bounded())),
    });
    this.policies = new RestartingInformer<KubernetesObject>({
      ...common, ...selected, name: 'stack-network-policies', path: `/apis/networking.k8s.io/v1${nsPath}/networkpolicies`,
      list: () => (ns ? networking.listNamespacedNetworkPolicy({ namespace: ns, ...selected }, bounded())
        : networking.listNetworkPolicyForAllNamespaces(selected, bounded())) as Promise<KubernetesListObject<KubernetesObject>>,
    });
  }

  private all(): RestartingInformer<KubernetesObject>[] {
    return [this.stacks, this.deployments, this.services, this.pdbs, this.pods, this.policies] as RestartingInformer<KubernetesObject>[];
  }

  async start(): Promise<void> {
    await Promise.all(this.all().map((i) => i.start()));
    await Promise.all(this.all().map((i) => i.synced));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((i) => i.stop()));
  }

  stackKeys(): string[] {
    return this.stacks.list().map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`);
  }

  getStack(namespace: string, name: string): Stack | undefined {
    return this.stacks.get(name, namespace) as unknown as Stack | undefined;
  }

  deploymentsOf(stack: Stack): V1Deployment[] {
    return this.deployments.list(stack.metadata.namespace).filter((d) => ownedBy(d, stack.metadata.uid));
  }

  stageChildrenOf(stack: Stack): KubernetesObject[] {
    const stageOwned = (o: KubernetesObject): boolean => ownedBy(o, stack.metadata.uid) && o.metadata?.labels?.[StackLabel.Stage] !== undefined;
    return [
      ...this.deployments.list(stack.metadata.namespace).filter(stageOwned).map((d) => ({ ...d, kind: 'Deployment' })),
      ...this.pdbs.list(stack.metadata.namespace).filter(stageOwned).map((p) => ({ ...p, kind: 'PodDisruptionBudget' })),
    ];
  }

  networkPoliciesOf(stack: Stack): KubernetesObject[] {
    return this.policies.list(stack.metadata.namespace).filter((p) => ownedBy(p, stack.metadata.uid)).map((p) => ({ ...p, kind: 'NetworkPolicy' }));
  }

  async remove(obj: KubernetesObject): Promise<void> {
    const remove = this.removers[obj.kind ?? ''];
    if (!remove) throw new Error(`the Stack reconciler does not delete ${obj.kind} objects`);
    try {
      await remove(obj.metadata!.namespace!, obj.metadata!.name!, obj.metadata!.uid!);
    } catch (e) {
      const code = statusCode(e);
      if (code !== 404 && code !== 409) throw e;
    }
  }

  podsOf(stack: Stack): V1Pod[] {
    return this.pods.list(stack.metadata.namespace).filter((p) => p.metadata?.labels?.[StackLabel.Stack] === stack.metadata.name);
  }

  cached(kind: string, namespace: string, name: string): KubernetesObject | undefined {
    const informers: Record<string, RestartingInformer<KubernetesObject> | undefined> = {
      Deployment: this.deployments, Service: this.services, PodDisruptionBudget: this.pdbs, NetworkPolicy: this.policies,
    } as Record<string, RestartingInformer<KubernetesObject>>;
    const informer = informers[kind];
    return informer?.get(name, namespace);
  }

  async apply(obj: KubernetesObject): Promise<void> {
    const apply = this.appliers[obj.kind ?? ''];
    if (!apply) throw new Error(`the Stack reconciler does not apply ${obj.kind} objects`);
    await apply(obj.metadata!.namespace!, obj.metadata!.name!, obj);
  }

  async updateStatus(stack: Stack, status: StackStatus): Promise<void> {
    const body = { apiVersion: stack.apiVersion, kind: stack.kind, metadata: stack.metadata, spec: stack.spec, status };
    try {
      await this.custom.replaceNamespacedCustomObjectStatus({
        group: GROUP, version: VERSION, plural: STACK_PLURAL, namespace: stack.metadata.namespace, name: stack.metadata.name, body, fieldManager: FIELD_MANAGER,
      }, boundedCall(this.timeoutMs));
    } catch (e) {
      const code = statusCode(e);
      if (code === 409 || code === 404) throw new ConflictError(`stack ${stack.metadata.namespace}/${stack.metadata.name} changed (HTTP ${code})`, { cause: e });
      throw e;
    }
  }
}

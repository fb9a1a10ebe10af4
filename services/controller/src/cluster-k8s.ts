// The real Cluster: three restarting informers (runs, and the Jobs and Pods the runs own) feed the
// caches and the work queue; writes go straight to the API server. Every call but the informers'
// watches is bounded by apiTimeoutMs (a timed-out list restarts its informer; a timed-out write fails
// the reconcile, which is retried).
import {
  AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions,
  type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Job, type V1Pod,
} from '@kubernetes/client-node';
import { boundedCall, DEFAULT_API_TIMEOUT_MS } from './api-timeout.ts';
import type { Cluster, WorkloadKind } from './cluster.ts';
import type { RunStatus, StackTrainingRun } from './types.ts';
import { ConflictError } from './cluster.ts';
import { RestartingInformer } from './informer.ts';
import { GROUP, Label, PLURAL, VERSION } from './types.ts';

export const FIELD_MANAGER = 'fslm-controller';

export interface K8sClusterOptions {
  kubeConfig: KubeConfig;
  /** Watch one namespace; all namespaces when undefined. */
  namespace?: string;
  /** Called with `namespace/name` of the run that an event concerns. */
  enqueue: (key: string) => void;
  onInformerRestart?: (name: string, error: string, delayMs: number) => void;
  /** How long one API call (a list, create, patch, replace, delete or read; not a watch) may take (default DEFAULT_API_TIMEOUT_MS). */
  apiTimeoutMs?: number;
}

const statusCode = (e: unknown): number | undefined => {
  const err = e as { code?: unknown; statusCode?: unknown };
  return typeof err?.code === 'number' ? err.code : typeof err?.statusCode === 'number' ? err.statusCode : undefined;
};

const ownedBy = (obj: { metadata?: { ownerReferences?: { uid?: string }[] } }, uid: string): boolean =>
  obj.metadata?.ownerReferences?.some((o) => o.uid === uid) ?? false;

export class K8sCluster implements Cluster {
  private readonly custom: CustomObjectsApi;
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  /** Runs are plain JSON from the custom objects API; the cache holds them untyped. */
  private readonly runInformer: RestartingInformer<KubernetesObject>;
  readonly jobs: RestartingInformer<V1Job>;
  readonly pods: RestartingInformer<V1Pod>;
  private readonly timeoutMs: number;

  constructor(private readonly opts: K8sClusterOptions) {
    this.timeoutMs = opts.apiTimeoutMs ?? DEFAULT_API_TIMEOUT_MS;
    const kc = opts.kubeConfig;
    const bounded = () => boundedCall(this.timeoutMs);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    const ns = opts.namespace;
    const nsPath = ns ? `/namespaces/${ns}` : '';
    const fromLabel = (o: { metadata?: { namespace?: string; labels?: Record<string, string> } }): void => {
      const run = o.metadata?.labels?.[Label.Run];
      if (run && o.metadata?.namespace) opts.enqueue(`${o.metadata.namespace}/${run}`);
    };
    this.runInformer = new RestartingInformer<KubernetesObject>({
      name: 'runs', kubeConfig: kc, path: `/apis/${GROUP}/${VERSION}${nsPath}/${PLURAL}`,
      list: async () => (ns
        ? await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL }, bounded())
        : await this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }, bounded())) as KubernetesListObject<KubernetesObject>,
      onChange: (r) => opts.enqueue(`${r.metadata?.namespace}/${r.metadata?.name}`),
      onRestart: opts.onInformerRestart,
    });
    this.jobs = new RestartingInformer<V1Job>({
      name: 'jobs', kubeConfig: kc, path: `/apis/batch/v1${nsPath}/jobs`, labelSelector: Label.Run,
      list: () => (ns ? this.batch.listNamespacedJob({ namespace: ns, labelSelector: Label.Run }, bounded()) : this.batch.listJobForAllNamespaces({ labelSelector: Label.Run }, bounded())),
      onChange: fromLabel,
      onRestart: opts.onInformerRestart,
    });
    this.pods = new RestartingInformer<V1Pod>({
      name: 'pods', kubeConfig: kc, path: `/api/v1${nsPath}/pods`, labelSelector: Label.Run,
      list: () => (ns ? this.core.listNamespacedPod({ namespace: ns, labelSelector: Label.Run }, bounded()) : this.core.listPodForAllNamespaces({ labelSelector: Label.Run }, bounded())),
      onChange: fromLabel,
      onRestart: opts.onInformerRestart,
    });
  }

  /** Starts the informers and resolves when all three have their first list. */
  async start(): Promise<void> {
    await Promise.all([this.runInformer.start(), this.jobs.start(), this.pods.start()]);
    await Promise.all([this.runInformer.synced, this.jobs.synced, this.pods.synced]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.runInformer.stop(), this.jobs.stop(), this.pods.stop()]);
  }

  runs(): StackTrainingRun[] {
    return this.runInformer.list() as unknown as StackTrainingRun[];
  }

  runKeys(): string[] {
    return this.runs().map((r) => `${r.metadata.namespace}/${r.metadata.name}`);
  }

  getRun(namespace: string, name: string): StackTrainingRun | undefined {
    return this.runInformer.get(name, namespace) as unknown as StackTrainingRun | undefined;
  }

  jobsOf(run: StackTrainingRun): V1Job[] {
    return this.jobs.list(run.metadata.namespace).filter((j) => ownedBy(j, run.metadata.uid));
  }

  podsOf(run: StackTrainingRun): V1Pod[] {
    return this.pods.list(run.metadata.namespace).filter((p) => p.metadata?.labels?.[Label.Run] === run.metadata.name);
  }

  async createJob(job: V1Job): Promise<'created' | 'exists'> {
    try {
      await this.batch.createNamespacedJob({ namespace: job.metadata!.namespace!, body: job, fieldManager: FIELD_MANAGER }, boundedCall(this.timeoutMs));
      return 'created';
    } catch (e) {
      if (statusCode(e) === 409) return 'exists';
      throw e;
    }
  }

  async setJobSuspended(namespace: string, name: string, suspend: boolean): Promise<void> {
    try {
      await this.batch.patchNamespacedJob({ namespace, name, body: { spec: { suspend } }, fieldManager: FIELD_MANAGER },
        boundedCall(this.timeoutMs, undefined, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
    } catch (e) {
      if (statusCode(e) !== 404) throw e;
    }
  }

  async updateRunStatus(run: StackTrainingRun, status: RunStatus): Promise<void> {
    const body = { apiVersion: run.apiVersion, kind: run.kind, metadata: run.metadata, spec: run.spec, status };
    try {
      await this.custom.replaceNamespacedCustomObjectStatus({
        group: GROUP, version: VERSION, plural: PLURAL, namespace: run.metadata.namespace, name: run.metadata.name, body, fieldManager: FIELD_MANAGER,
      }, boundedCall(this.timeoutMs));
    } catch (e) {
      const code = statusCode(e);
      if (code === 409 || code === 404) throw new ConflictError(`run ${run.metadata.namespace}/${run.metadata.name} changed (HTTP ${code})`, { cause: e });
      throw e;
    }
  }

  async deleteRun(run: StackTrainingRun): Promise<void> {
    try {
      await this.custom.deleteNamespacedCustomObject({
        group: GROUP, version: VERSION, plural: PLURAL, namespace: run.metadata.namespace, name: run.metadata.name,
        propagationPolicy: 'Background', body: { preconditions: { uid: run.metadata.uid } },
      }, boundedCall(this.timeoutMs));
    } catch (e) {
      const code = statusCode(e);
      if (code !== 404 && code !== 409) throw e;
    }
  }

  async workloadContainers(kind: WorkloadKind, namespace: string, name: string): Promise<string[] | undefined> {
    try {
      const w = kind === 'Deployment'
        ? await this.apps.readNamespacedDeployment({ namespace, name }, boundedCall(this.timeoutMs))
        : await this.apps.readNamespacedStatefulSet({ namespace, name }, boundedCall(this.timeoutMs));
      return (w.spec?.template.spec?.containers ?? []).map((c) => c.name);
    } catch (e) {
      if (statusCode(e) === 404) return undefined;
      throw e;
    }
  }

  async patchWorkload(kind: WorkloadKind, namespace: string, name: string, patch: object): Promise<void> {
    const opts = boundedCall(this.timeoutMs, undefined, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    if (kind === 'Deployment') await this.apps.patchNamespacedDeployment({ namespace, name, body: patch, fieldManager: FIELD_MANAGER }, opts);
    else await this.apps.patchNamespacedStatefulSet({ namespace, name, body: patch, fieldManager: FIELD_MANAGER }, opts);
  }
}

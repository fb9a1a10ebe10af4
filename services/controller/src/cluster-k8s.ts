// The real Cluster: restarting informers (runs, the Jobs and Pods the runs own, and those Jobs'
// FailedCreate events) feed the caches and the work queue; writes go straight to the API server.
// Every call but the informers' watches is bounded by apiTimeoutMs (a timed-out list restarts its informer; a timed-out write fails
// the reconcile, which is retried).
import {
  BatchV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions,
  type CoreV1Event, type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Job, type V1Pod,
} from '@kubernetes/client-node';
import { boundedCall, DEFAULT_API_TIMEOUT_MS } from './api-timeout.ts';
import type { Cluster } from './cluster.ts';
import type { Stack } from './stack-types.ts';
import { STACK_PLURAL } from './stack-types.ts';
import type { RunStatus, StackTrainingRun } from './types.ts';
import { ConflictError } from './cluster.ts';
import { RestartingInformer } from '../../shared/k8s-informer.ts';
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
  /** Runs are plain JSON from the custom objects API; the cache holds them untyped. */
  private readonly runInformer: RestartingInformer<KubernetesObject>;
  readonly jobs: RestartingInformer<V1Job>;
  readonly pods: RestartingInformer<V1Pod>;
  /** A Job that cannot create its pod (no service account, quota, admission) says so only in an event. */
  readonly events: RestartingInformer<CoreV1Event>;
  private readonly timeoutMs: number;

  constructor(private readonly opts: K8sClusterOptions) {
    this.timeoutMs = opts.apiTimeoutMs ?? DEFAULT_API_TIMEOUT_MS;
    const kc = opts.kubeConfig;
    const bounded = () => boundedCall(this.timeoutMs);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
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
    const eventSelector = { fieldSelector: 'involvedObject.kind=Job,reason=FailedCreate' };
    this.events = new RestartingInformer<CoreV1Event>({
      name: 'job-events', kubeConfig: kc, path: `/api/v1${nsPath}/events`, ...eventSelector,
      list: () => (ns ? this.core.listNamespacedEvent({ namespace: ns, ...eventSelector }, bounded()) : this.core.listEventForAllNamespaces(eventSelector, bounded())),
      // Events carry no labels: the Job they are about names the run.
      onChange: (e) => {
        const job = e.involvedObject?.name ? this.jobs.get(e.involvedObject.name, e.metadata?.namespace) : undefined;
        if (job) fromLabel(job);
      },
      onRestart: opts.onInformerRestart,
    });
  }

  /** Starts the informers and resolves when all have their first list. */
  async start(): Promise<void> {
    await Promise.all([this.runInformer.start(), this.jobs.start(), this.pods.start(), this.events.start()]);
    await Promise.all([this.runInformer.synced, this.jobs.synced, this.pods.synced, this.events.synced]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.runInformer.stop(), this.jobs.stop(), this.pods.stop(), this.events.stop()]);
  }

  jobEventsOf(run: StackTrainingRun): CoreV1Event[] {
    const jobs = new Set(this.jobsOf(run).map((j) => j.metadata?.name));
    return this.events.list(run.metadata.namespace).filter((e) => jobs.has(e.involvedObject?.name));
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

  async stackStages(namespace: string, name: string): Promise<string[] | undefined> {
    try {
      const stack = await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: STACK_PLURAL, namespace, name }, boundedCall(this.timeoutMs)) as Stack;
      return stack.spec.stages.map((s) => s.name);
    } catch (e) {
      if (statusCode(e) === 404) return undefined;
      throw e;
    }
  }

  async setStackStageModel(namespace: string, name: string, index: number, stage: string, model: string): Promise<void> {
    const body = [
      { op: 'test', path: `/spec/stages/${index}/name`, value: stage },
      { op: 'add', path: `/spec/stages/${index}/model`, value: model },
    ];
    try {
      await this.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, plural: STACK_PLURAL, namespace, name, body, fieldManager: FIELD_MANAGER },
        boundedCall(this.timeoutMs, undefined, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)));
    } catch (e) {
      const code = statusCode(e);
      // 422: the test failed (the stage moved); 409: a conflict. Either way, look again.
      if (code === 422 || code === 409) throw new ConflictError(`stack ${namespace}/${name} changed under the rollout (HTTP ${code})`, { cause: e });
      throw e;
    }
  }
}

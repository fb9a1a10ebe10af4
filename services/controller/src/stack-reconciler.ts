// Reconcile for Stack, in the same fixed shape as the run reconciler: get the Stack (stop if gone),
// build what it should run (stack-builder.ts, pure), apply each child whose applied hash differs,
// delete the Deployment and PodDisruptionBudget of a stage taken out of the Stack (and NetworkPolicies
// turned off), compute the status
// from the Deployments and pods (stack-status.ts, pure), and write the status only if it changed.
// Deleting a Stack needs nothing here: its children are owned by it.
import { isDeepStrictEqual } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { errorMessage } from '../../shared/errors.ts';
import type { Logger } from './run-reconciler.ts';
import type { ServingProfile } from './stack-serving.ts';
import type { StackCluster } from './stack-cluster-k8s.ts';
import type { Stack, StackStatus } from './stack-types.ts';
import { ConflictError } from './cluster.ts';
import { ControllerMetrics } from './metrics.ts';
import { desiredObjects } from './stack-builder.ts';
import { stackStatus } from './stack-status.ts';
import { normalize } from './status-common.ts';
import { StackAnnotation, StackCondition } from './stack-types.ts';

const CONFLICT_REQUEUE_MS = 200;
/** Kinds the cluster caches (informers), so a deleted child is noticed and made again. */
const CACHED_KINDS = new Set(['Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy']);
const MEMORY = 10_000;

export interface StackReconcilerOptions {
  cluster: StackCluster;
  profile: ServingProfile;
  metrics?: ControllerMetrics;
  log?: Logger;
  now?: () => Date;
}

const keyOf = (o: KubernetesObject): string => `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`;
const hashOf = (o: KubernetesObject | undefined): string | undefined => o?.metadata?.annotations?.[StackAnnotation.AppliedHash];

export class StackReconciler {
  private readonly cluster: StackCluster;
  private readonly profile: ServingProfile;
  private readonly metrics: ControllerMetrics;
  private readonly log: Logger;
  private readonly now: () => Date;
  /** The hash this process last applied per child (kinds without a cache are known only from here). */
  private readonly applied = new Map<string, string>();

  constructor(opts: StackReconcilerOptions) {
    this.cluster = opts.cluster;
    this.profile = opts.profile;
    this.metrics = opts.metrics ?? new ControllerMetrics();
    this.log = opts.log ?? (() => {});
    this.now = opts.now ?? (() => new Date());
  }

  /** Reconciles the Stack `namespace/name`; resolves with a requeue delay when it must look again. */
  async reconcile(key: string): Promise<{ requeueAfterMs?: number }> {
    const [namespace, name] = key.split('/');
    const stack = this.cluster.getStack(namespace, name);
    if (!stack || stack.metadata.deletionTimestamp) return {};
    try {
      await this.reconcileStack(stack);
      this.metrics.reconciles.add(1, { result: 'ok', kind: 'Stack' });
      return {};
    } catch (e) {
      if (e instanceof ConflictError) {
        this.metrics.reconciles.add(1, { result: 'conflict', kind: 'Stack' });
        return { requeueAfterMs: CONFLICT_REQUEUE_MS };
      }
      this.metrics.reconciles.add(1, { result: 'error', kind: 'Stack' });
      throw e;
    }
  }

  private needsApply(obj: KubernetesObject): boolean {
    const want = hashOf(obj);
    const cached = CACHED_KINDS.has(obj.kind!) ? this.cluster.cached(obj.kind!, obj.metadata!.namespace!, obj.metadata!.name!) : undefined;
    if (CACHED_KINDS.has(obj.kind!) && !cached) return true;
    return (this.applied.get(keyOf(obj)) ?? hashOf(cached)) !== want;
  }

  private async reconcileStack(stack: Stack): Promise<void> {
    const key = `${stack.metadata.namespace}/${stack.metadata.name}`;
    const failures: string[] = [];
    const desired = desiredObjects(stack, this.profile);
    for (const obj of desired) {
      if (!this.needsApply(obj)) continue;
      try {
        await this.cluster.apply(obj);
        this.applied.set(keyOf(obj), hashOf(obj)!);
        if (this.applied.size > MEMORY) this.applied.delete(this.applied.keys().next().value!);
        this.log('applied', { stack: key, object: keyOf(obj) });
      } catch (e) {
        failures.push(`${obj.kind} ${obj.metadata?.name}: ${errorMessage(e)}`);
      }
    }
    // A stage taken out of the Stack takes its Deployment and PodDisruptionBudget with it; NetworkPolicies
    // turned off go.
    const wanted = new Set(desired.map(keyOf));
    const removable = [...this.cluster.stageChildrenOf(stack), ...this.cluster.networkPoliciesOf(stack)];
    for (const stale of removable.filter((o) => !wanted.has(keyOf(o)))) {
      try {
        await this.cluster.remove(stale);
        this.applied.delete(keyOf(stale));
        this.log('deleted', { stack: key, object: keyOf(stale) });
      } catch (e) {
        failures.push(`${stale.kind} ${stale.metadata?.name}: ${errorMessage(e)}`);
      }
    }
    const deployments = new Map(this.cluster.deploymentsOf(stack).map((d) => [d.metadata!.name!, d]));
    let status: StackStatus = stackStatus({ stack, deployments, pods: this.cluster.podsOf(stack), profile: this.profile, now: this.now() });
    if (failures.length > 0) status = withApplyFailure(status, failures.join('; ').slice(0, 4096), stack.metadata.generation, this.now());
    const before = normalize(stack.status ?? {});
    const next = normalize(status);
    if (!isDeepStrictEqual(before, next)) {
      await this.cluster.updateStatus(stack, next);
      this.metrics.statusPatches.add(1);
      if (before.readyStages !== next.readyStages) this.log('stack ready stages', { stack: key, from: before.readyStages ?? '', to: next.readyStages });
    }
    // The status says why; the queue retries with backoff.
    if (failures.length > 0) throw new Error(`stack ${key}: ${failures.join('; ')}`);
  }
}

/** An object the API server refused makes the Stack Degraded (and not Ready) with the server's reason. */
function withApplyFailure(status: StackStatus, message: string, generation: number | undefined, now: Date): StackStatus {
  const conditions = (status.conditions ?? []).map((c) => {
    if (c.type !== StackCondition.Ready && c.type !== StackCondition.Degraded) return c;
    const on = c.type === StackCondition.Degraded;
    const flipped = c.status !== (on ? 'True' : 'False');
    return { ...c, status: on ? 'True' as const : 'False' as const, reason: 'ApplyFailed', message, observedGeneration: generation,
      lastTransitionTime: flipped ? now.toISOString() : c.lastTransitionTime };
  });
  return { ...status, conditions };
}

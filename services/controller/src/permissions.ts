// What the controller may do in the cluster, next to the code that needs it. scripts/k8s/render-rbac.ts
// renders k8s/base/controller/rbac.yaml from this, and a test checks the file is current.
import { GROUP, PLURAL } from './types.ts';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Cluster-wide rules (runs may live in any namespace). */
export const CLUSTER_RULES: PolicyRule[] = [
  // Informer on runs; status writes; TTL deletes; owner references with blockOwnerDeletion need finalizers.
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch', 'delete'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/finalizers`], verbs: ['update'] },
  // One Job per stage attempt; suspend to cancel.
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  // The trainer's progress annotation and exit code live on its Pod.
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  // Rollout of a succeeded stage to its serving workload.
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: ['get', 'patch'] },
];

/** Rules in the controller's own namespace: the leader election Lease. */
export const NAMESPACE_RULES: PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/** What the trainer's Pods need: patch their own Pod's progress annotation. */
export const TRAINER_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'patch'] },
];

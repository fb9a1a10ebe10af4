// What the controller may do in the cluster, next to the code that needs it. scripts/k8s/render-rbac.ts
// renders k8s/base/controller/rbac.yaml from this, and a test checks the file is current.
import { STACK_PLURAL } from './stack-types.ts';
import { GROUP, PLURAL } from './types.ts';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Cluster-wide rules (runs and stacks may live in any namespace). */
export const CLUSTER_RULES: PolicyRule[] = [
  // Informer on runs; status writes; TTL deletes; owner references with blockOwnerDeletion need finalizers.
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch', 'delete'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/finalizers`], verbs: ['update'] },
  // Informer on stacks; status writes; a run's rollout patches the model of one stage.
  { apiGroups: [GROUP], resources: [STACK_PLURAL], verbs: ['get', 'list', 'watch', 'patch'] },
  { apiGroups: [GROUP], resources: [`${STACK_PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
  { apiGroups: [GROUP], resources: [`${STACK_PLURAL}/finalizers`], verbs: ['update'] },
  // One Job per stage attempt; suspend to cancel.
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  // The trainer's progress annotation and exit code live on its Pod; a stage pod says why it does not start.
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  // A Job that cannot create its pod says so only in events (FailedCreate).
  { apiGroups: [''], resources: ['events'], verbs: ['list', 'watch'] },
  // What a Stack runs, applied server-side (create and patch); watched to repair drift and read status;
  // a stage taken out of its Stack is deleted.
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  // The Stack's NetworkPolicies: applied, watched to repair drift, deleted when a Stack turns them off.
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  // The router's identity, bound to ROUTER_CLUSTER_ROLE in the stack's namespace.
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'create', 'patch'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['get', 'create', 'patch'] },
];

/** The ClusterRole a stack's router is bound to (in its namespace): it reads Stack objects. */
export const ROUTER_CLUSTER_ROLE = 'fslm-router';
export const ROUTER_RULES: PolicyRule[] = [
  { apiGroups: [GROUP], resources: [STACK_PLURAL], verbs: ['get', 'list', 'watch'] },
];

/** Rules in the controller's own namespace: the leader election Lease. */
export const NAMESPACE_RULES: PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/** What the trainer's Pods need: patch their own Pod's progress annotation. */
export const TRAINER_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'patch'] },
];

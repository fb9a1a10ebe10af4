// The Stack API (fslm.dev/v1alpha1) as the controller reads and writes it. The schema the API server
// enforces is k8s/base/crd/stacks.fslm.dev.yaml (the one definition of the stack format);
// services/controller/test/stack-types.test.ts checks these field names against it.
import type { ObjectMeta, ResourceRequirements, Toleration } from './types.ts';

export const STACK_KIND = 'Stack';
export const STACK_PLURAL = 'stacks';

/** Labels on everything the Stack reconciler makes. */
export const StackLabel = {
  Stack: 'fslm.dev/stack',
  Stage: 'fslm.dev/stage',
  Name: 'app.kubernetes.io/name',
  Instance: 'app.kubernetes.io/instance',
  Component: 'app.kubernetes.io/component',
} as const;

export const StackAnnotation = {
  /** On a stage pod template: the URI of the model its pods serve. */
  Model: 'fslm.dev/model',
  /** On every child: a hash of what the controller last applied, so unchanged children are not written again. */
  AppliedHash: 'fslm.dev/applied-hash',
  /** On a stage whose model a training run rolled out: that run, namespace/name. */
  TrainingRun: 'fslm.dev/training-run',
} as const;

export interface StackEnvVar {
  name: string;
  value?: string;
}

export interface StackEnvFrom {
  prefix?: string;
  secretRef?: { name: string };
  configMapRef?: { name: string };
}

/** Serving settings of a stage; spec.defaults holds the same for every stage. */
export interface ServingSpec {
  model?: string;
  replicas?: number;
  precision?: 'fp32' | 'int8' | 'int4';
  resources?: ResourceRequirements;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  placement?: { oneStagePerNode?: boolean; spreadTopologyKey?: string };
  startTimeoutSeconds?: number;
}

export interface StackStageSpec extends ServingSpec {
  name: string;
  subject?: string;
  system?: string;
  template: string;
  params?: Record<string, unknown>;
  budgetMs?: number;
}

/** TLS on the gRPC and HTTPS doors: a kubernetes.io/tls Secret with tls.crt, tls.key and ca.crt. */
export interface StackTlsSpec {
  secretName: string;
  /** mTLS: clients need a certificate signed by ca.crt (default false). */
  clientAuth?: boolean;
}

/** TLS and NKey identities towards NATS. */
export interface StackNatsSpec {
  /** A Secret with ca.crt, plus tls.crt and tls.key when `clientCertificate`. */
  tls?: { secretName: string; clientCertificate?: boolean };
  /** A Secret with one NKey user seed per identity: `router.nk`, `stage.<stack>.<stage>.nk`. */
  credentialsSecretName?: string;
}

/** A NetworkPolicy peer, as in networking.k8s.io/v1 (label selectors by matchLabels only). */
export interface StackNetworkPeer {
  namespaceSelector?: { matchLabels?: Record<string, string> };
  podSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: { cidr: string; except?: string[] };
}

/** What the Stack's NetworkPolicies let through beyond NATS and DNS. */
export interface StackNetworkPolicySpec {
  /** Default true. */
  enabled?: boolean;
  /** Who may call the router's gRPC and HTTP ports; unset: anyone. */
  routerClients?: StackNetworkPeer[];
  /** Who may scrape metrics; unset: the controller's --metrics-scrapers. */
  metricsScrapers?: StackNetworkPeer[];
  /** Egress of the stage pods (their model fetch step) to an s3:// model store. */
  modelStore?: { to: StackNetworkPeer[]; ports: number[] };
}

export interface StackSpec {
  description?: string;
  defaults?: ServingSpec;
  router?: { replicas?: number; resources?: ResourceRequirements; nodeSelector?: Record<string, string> };
  store?: { persistentVolumeClaim?: string; mountPath?: string; env?: StackEnvVar[]; envFrom?: StackEnvFrom[] };
  tls?: StackTlsSpec;
  nats?: StackNatsSpec;
  networkPolicy?: StackNetworkPolicySpec;
  stages: StackStageSpec[];
}

export interface StackStageStatus {
  name: string;
  deployment?: string;
  /** Desired replicas. */
  replicas: number;
  readyReplicas: number;
  updatedReplicas?: number;
  /** The model URI every ready replica serves; unset while ready replicas serve different ones. */
  model?: string;
  /**
   * The model version (sha256 of the artifact's fslm.json, as the stage's Describe reports it) every ready
   * replica serves, from its fetch step's termination message; unset while they differ or one has not reported it.
   */
  modelVersion?: string;
  reason?: string;
  message?: string;
}

export interface StackStatus {
  observedGeneration?: number;
  /** "ready/total" stages, e.g. "4/4". */
  readyStages?: string;
  conditions?: StackConditionRecord[];
  stages?: StackStageStatus[];
  router?: { deployment?: string; service?: string; replicas?: number; readyReplicas?: number };
}

export interface Stack {
  apiVersion: string;
  kind: typeof STACK_KIND;
  metadata: ObjectMeta;
  spec: StackSpec;
  status?: StackStatus;
}

export const StackCondition = { Ready: 'Ready', Progressing: 'Progressing', Degraded: 'Degraded' } as const;
export type StackConditionType = (typeof StackCondition)[keyof typeof StackCondition];

export interface StackConditionRecord {
  type: StackConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

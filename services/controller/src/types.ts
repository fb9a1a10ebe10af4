// The StackTrainingRun API (fslm.dev/v1alpha1): spec, status, phases, condition types and reasons.
// k8s/base/crd/stacktrainingruns.fslm.dev.yaml is the schema the API server enforces; keep the two in step
// (test/controller/crd-schema.test.ts checks the field names match).

export const GROUP = 'fslm.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'StackTrainingRun';
export const PLURAL = 'stacktrainingruns';

/** Labels the controller puts on every Job and Pod it makes. */
export const Label = {
  Run: 'fslm.dev/run',
  Stage: 'fslm.dev/stage',
  Attempt: 'fslm.dev/attempt',
  ManagedBy: 'app.kubernetes.io/managed-by',
} as const;
export const MANAGED_BY = 'fslm-controller';

export const Annotation = {
  /** Set by the trainer on its own Pod: JSON {"step","total","loss","eval_loss","tokens_per_s","eta_s"}. */
  Progress: 'fslm.dev/progress',
  /** The TRACEPARENT the Job was started with. */
  Traceparent: 'fslm.dev/traceparent',
  /** Identity of the controller replica that created the object. */
  CreatedBy: 'fslm.dev/created-by',
  /** Set on a rolled-out serving workload's pod template. */
  Model: 'fslm.dev/model',
  TrainingRun: 'fslm.dev/training-run',
} as const;

/** Name of the trainer container in every stage Job. */
export const TRAINER_CONTAINER = 'trainer';

export interface LoraSpec {
  rank: number;
  alpha: number;
  dropout: number;
  targetModules: string[];
}

export interface EnvVar {
  name: string;
  value?: string;
}

export interface EnvFromSource {
  prefix?: string;
  secretRef?: { name: string; optional?: boolean };
  configMapRef?: { name: string; optional?: boolean };
}

/** A pod volume: its name and one volume source, as the Kubernetes API takes it (checked when the Job is created). */
export interface Volume {
  name: string;
  [source: string]: unknown;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface ResourceRequirements {
  limits?: Record<string, string | number>;
  requests?: Record<string, string | number>;
}

/** Pod defaults for every stage; a stage may override image, command, args, env and resources. */
export interface PodTemplateSpec {
  image?: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  resources?: ResourceRequirements;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  serviceAccountName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Pod volumes (e.g. the data and model claims), mounted into the trainer by volumeMounts. */
  volumes?: Volume[];
  volumeMounts?: VolumeMount[];
  envFrom?: EnvFromSource[];
  /** The pod's securityContext (e.g. runAsNonRoot, fsGroup so the trainer may write the model volume). */
  securityContext?: Record<string, unknown>;
}

export interface StageSpec {
  name: string;
  dependsOn?: string[];
  baseModel: string;
  dataset: string;
  lora?: LoraSpec;
  maxSteps?: number;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  resources?: ResourceRequirements;
  /** Where this stage's model goes; default `<spec.output.uri>/<run>/<stage>`. */
  output?: string;
  /** Deadline for the whole stage (all attempts), counted from its first start. */
  activeDeadlineSeconds?: number;
}

export interface RetrySpec {
  /** Retries after the first attempt; 0 means one attempt only. */
  limit: number;
  backoffSeconds: number;
  maxBackoffSeconds: number;
  /** Exit codes that fail the stage at once (always includes 2, the trainer's "bad input"). */
  nonRetryableExitCodes: number[];
}

export interface RolloutSpec {
  /** The run's stage whose model is rolled out. */
  stage: string;
  /** The Stack stage that serves it: `stage` defaults to the run's stage name, `namespace` to the run's. */
  target: { stack: string; stage?: string; namespace?: string };
}

export interface RunSpec {
  stages: StageSpec[];
  template?: PodTemplateSpec;
  retry?: Partial<RetrySpec>;
  /** Deadline for the whole run, counted from its start. */
  activeDeadlineSeconds?: number;
  /** An attempt whose pod has not started this long after its Job was made fails the stage with the reason it did not start. */
  startTimeoutSeconds?: number;
  suspend?: boolean;
  ttlSecondsAfterFinished?: number;
  output?: { uri?: string };
  /**
   * The stack definition (a Stack YAML file: a path or file:// URI the trainer can read; a local run
   * resolves a relative path against the run file's directory) whose stages these are: each stage's
   * trainer renders its rows' prompts from that stage's system prompt and template, as serving does.
   */
  stack?: string;
  rollout?: RolloutSpec;
}

export const RunPhase = {
  Pending: 'Pending',
  Running: 'Running',
  Suspended: 'Suspended',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
} as const;
export type RunPhase = (typeof RunPhase)[keyof typeof RunPhase];

export const StagePhase = {
  /** Waiting for the stages it depends on. */
  Pending: 'Pending',
  /** A Job exists for the current attempt and has not finished. */
  Running: 'Running',
  /** The last attempt failed; the next one starts at `nextAttemptTime`. */
  Retrying: 'Retrying',
  Suspended: 'Suspended',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  /** Stopped or never started because the run ended. */
  Cancelled: 'Cancelled',
} as const;
export type StagePhase = (typeof StagePhase)[keyof typeof StagePhase];

export const ConditionType = {
  Created: 'Created',
  Running: 'Running',
  Suspended: 'Suspended',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const Reason = {
  Created: 'Created',
  JobsRunning: 'JobsRunning',
  WaitingForStages: 'WaitingForStages',
  Suspended: 'Suspended',
  Resumed: 'Resumed',
  AllStagesSucceeded: 'AllStagesSucceeded',
  StageFailed: 'StageFailed',
  BackoffLimitExceeded: 'BackoffLimitExceeded',
  NonRetryableExitCode: 'NonRetryableExitCode',
  DeadlineExceeded: 'DeadlineExceeded',
  InvalidSpec: 'InvalidSpec',
  RunFinished: 'RunFinished',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** The trainer's last progress report, copied from its Pod annotation. */
export interface TrainerProgress {
  step?: number;
  total?: number;
  loss?: number;
  evalLoss?: number;
  tokensPerSecond?: number;
  etaSeconds?: number;
}

export interface StageStatus {
  name: string;
  phase: StagePhase;
  attempts: number;
  job?: string;
  pod?: string;
  node?: string;
  startTime?: string;
  finishTime?: string;
  nextAttemptTime?: string;
  lastExitCode?: number;
  reason?: string;
  message?: string;
  outputs?: { model: string };
  progress?: TrainerProgress;
  metrics?: Record<string, number>;
  /** Span id this stage's span carries (parent of the trainer's TRACEPARENT). */
  spanId?: string;
  /** True once the stage's span was exported, so a restarted controller does not export it twice. */
  traced?: boolean;
}

export interface RolloutStatus {
  stage: string;
  target: string;
  model: string;
  phase: 'Succeeded' | 'Failed';
  message?: string;
  time: string;
}

export interface RunStatus {
  observedGeneration?: number;
  phase?: RunPhase;
  /** "succeeded/total", e.g. "2/4". */
  progress?: string;
  startTime?: string;
  completionTime?: string;
  reason?: string;
  message?: string;
  conditions?: Condition[];
  stages?: StageStatus[];
  traceparent?: string;
  traced?: boolean;
  rollout?: RolloutStatus;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface StackTrainingRun {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: RunSpec;
  status?: RunStatus;
}

export const isFinished = (phase: RunPhase | undefined): boolean =>
  phase === RunPhase.Succeeded || phase === RunPhase.Failed;

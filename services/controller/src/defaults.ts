// Defaults of a StackTrainingRun, in one place. The CRD schema declares the same values as `default:`
// so `kubectl get -o yaml` shows them; resolveSpec() applies them again for a spec that did not come
// through the API server (the local executor reads YAML files directly).
import type { LoraSpec, PodTemplateSpec, RetrySpec, RunSpec, StageSpec } from './types.ts';

export const DEFAULT_COMMAND = ['fslm-trainer', 'stage-job'];
export const DEFAULT_OUTPUT_URI = 'file:///models';
export const DEFAULT_MAX_STEPS = 1000;
export const DEFAULT_GPU_RESOURCE = 'nvidia.com/gpu';
export const DEFAULT_LORA: LoraSpec = { rank: 8, alpha: 16, dropout: 0.05, targetModules: ['all-linear'] };
/** Exit code 2 is the trainer's "bad input": never retried, whatever the spec says. */
export const BAD_INPUT_EXIT_CODE = 2;
export const DEFAULT_RETRY: RetrySpec = {
  limit: 3,
  backoffSeconds: 10,
  maxBackoffSeconds: 300,
  nonRetryableExitCodes: [BAD_INPUT_EXIT_CODE],
};
/** An attempt whose pod has not started this long after its Job was made fails its stage. */
export const DEFAULT_START_TIMEOUT_SECONDS = 900;
export const MAX_STAGES = 16;

export interface ResolvedStage extends Required<Pick<StageSpec, 'name' | 'baseModel' | 'dataset' | 'maxSteps'>> {
  dependsOn: string[];
  lora: LoraSpec;
  image: string | undefined;
  command: string[];
  args: string[];
  env: NonNullable<StageSpec['env']>;
  resources: NonNullable<StageSpec['resources']>;
  output: string;
  activeDeadlineSeconds: number | undefined;
  /** The run's stack definition (spec.stack) the trainer renders prompts from; undefined: rows carry their prompts. */
  stack: string | undefined;
}

export interface ResolvedSpec {
  stages: ResolvedStage[];
  template: PodTemplateSpec;
  retry: RetrySpec;
  activeDeadlineSeconds: number | undefined;
  startTimeoutSeconds: number;
  suspend: boolean;
  ttlSecondsAfterFinished: number | undefined;
  rollout: RunSpec['rollout'];
}

const trimSlash = (s: string): string => s.replace(/\/+$/, '');

export function stageOutput(spec: RunSpec, runName: string, stage: StageSpec): string {
  if (stage.output) return stage.output;
  return `${trimSlash(spec.output?.uri ?? DEFAULT_OUTPUT_URI)}/${runName}/${stage.name}`;
}

export function resolveSpec(spec: RunSpec, runName: string): ResolvedSpec {
  const template = spec.template ?? {};
  const retry: RetrySpec = { ...DEFAULT_RETRY, ...(spec.retry ?? {}) };
  if (!retry.nonRetryableExitCodes.includes(BAD_INPUT_EXIT_CODE)) {
    retry.nonRetryableExitCodes = [BAD_INPUT_EXIT_CODE, ...retry.nonRetryableExitCodes];
  }
  return {
    stages: spec.stages.map((s) => ({
      name: s.name,
      dependsOn: s.dependsOn ?? [],
      baseModel: s.baseModel,
      dataset: s.dataset,
      maxSteps: s.maxSteps ?? DEFAULT_MAX_STEPS,
      lora: { ...DEFAULT_LORA, ...(s.lora ?? {}) },
      image: s.image ?? template.image,
      command: s.command ?? template.command ?? DEFAULT_COMMAND,
      args: s.args ?? template.args ?? [],
      env: [...(template.env ?? []), ...(s.env ?? [])],
      resources: s.resources ?? template.resources ?? { limits: { [DEFAULT_GPU_RESOURCE]: 1 } },
      output: stageOutput(spec, runName, s),
      activeDeadlineSeconds: s.activeDeadlineSeconds,
      stack: spec.stack,
    })),
    template,
    retry,
    activeDeadlineSeconds: spec.activeDeadlineSeconds,
    startTimeoutSeconds: spec.startTimeoutSeconds ?? DEFAULT_START_TIMEOUT_SECONDS,
    suspend: spec.suspend ?? false,
    ttlSecondsAfterFinished: spec.ttlSecondsAfterFinished,
    rollout: spec.rollout,
  };
}

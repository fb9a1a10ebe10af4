// The trainer's environment contract: the FSLM_* variables and TRACEPARENT every stage attempt gets,
// whether it runs as a Kubernetes Job (job-builder.ts) or as a local process (local-attempt.ts).
// Stage env from the spec comes first and never overrides the contract's variables. With spec.stack,
// FSLM_STACK names the stack file and FSLM_STAGE its stage: the trainer renders each row's prompt from
// them (`fslm trainer finetune --stack --stage`); without it FSLM_STACK is not part of the contract.
import type { ResolvedStage } from './defaults.ts';

export interface NameValue {
  name: string;
  value: string;
}

export interface TrainerEnvInput {
  run: string;
  namespace: string;
  stage: ResolvedStage;
  traceparent: string;
}

/** The contract's variables, in a fixed order. `stage.output` is the URI the trainer writes its model to. */
export function trainerEnv({ run, namespace, stage, traceparent }: TrainerEnvInput): NameValue[] {
  return [
    { name: 'FSLM_RUN', value: run },
    { name: 'FSLM_NAMESPACE', value: namespace },
    { name: 'FSLM_STAGE', value: stage.name },
    { name: 'FSLM_BASE_MODEL', value: stage.baseModel },
    { name: 'FSLM_DATASET', value: stage.dataset },
    { name: 'FSLM_OUTPUT', value: stage.output },
    { name: 'FSLM_LORA_RANK', value: String(stage.lora.rank) },
    { name: 'FSLM_LORA_ALPHA', value: String(stage.lora.alpha) },
    { name: 'FSLM_LORA_DROPOUT', value: String(stage.lora.dropout) },
    { name: 'FSLM_LORA_TARGETS', value: stage.lora.targetModules.join(',') },
    { name: 'FSLM_MAX_STEPS', value: String(stage.maxSteps) },
    ...(stage.stack ? [{ name: 'FSLM_STACK', value: stage.stack }] : []),
    { name: 'TRACEPARENT', value: traceparent },
  ];
}

/** The stage's own env (spec order, template first) without the variables in `reserved`. */
export function userEnv(stage: ResolvedStage, reserved: ReadonlySet<string>): NameValue[] {
  return stage.env.filter((e) => !reserved.has(e.name)).map((e) => ({ name: e.name, value: e.value ?? '' }));
}

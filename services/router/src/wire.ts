// Router results and stack definitions in their protobuf shapes (stack.proto).
import type { GenerationParams } from '../../shared/generated/fslm/v1/GenerationParams.ts';
import type { RunResponse } from '../../shared/generated/fslm/v1/RunResponse.ts';
import type { StackDescription } from '../../shared/generated/fslm/v1/StackDescription.ts';
import type { StackScoreResponse } from '../../shared/generated/fslm/v1/StackScoreResponse.ts';
import type { StageOutput } from '../../shared/generated/fslm/v1/StageOutput.ts';
import { totalBudgetMs } from './budget.ts';
import type { StackDefinition, StackOutcome, StackScoreOutcome, StageOutcome } from './types.ts';

/** Milliseconds rounded to the microsecond, for responses. */
export const roundMs = (ms: number) => Math.round(ms * 1000) / 1000;

/** The tokens of all stages of a run together. */
export function totalUsage(stages: readonly StageOutcome[]): { prompt_tokens: number; completion_tokens: number } {
  let prompt = 0;
  let completion = 0;
  for (const s of stages) {
    prompt += s.result.usage?.prompt_tokens ?? 0;
    completion += s.result.usage?.completion_tokens ?? 0;
  }
  return { prompt_tokens: prompt, completion_tokens: completion };
}

export function toStageOutput(outcome: StageOutcome): StageOutput {
  const r = outcome.result;
  return {
    stage: outcome.stage,
    index: outcome.index,
    text: outcome.text,
    finish_reason: r.finish_reason,
    usage: r.usage,
    timings: r.timings,
    model: outcome.model,
    model_version: outcome.modelVersion,
    adapter_version: outcome.adapterVersion,
    replica: outcome.replica,
    attempts: outcome.attempts,
    streamed_handoff: outcome.streamedHandoff,
    handoff_gap_ms: roundMs(outcome.handoffGapMs),
    duration_ms: roundMs(outcome.durationMs),
  };
}

export function toRunResponse(outcome: StackOutcome): RunResponse {
  return {
    request_id: outcome.requestId,
    stack: outcome.stack,
    text: outcome.text,
    stages: outcome.stages.map(toStageOutput),
    usage: totalUsage(outcome.stages),
    total_ms: roundMs(outcome.totalMs),
    trace_id: outcome.traceId,
  };
}

export function toStackScoreResponse(outcome: StackScoreOutcome): StackScoreResponse {
  return {
    request_id: outcome.requestId,
    stack: outcome.stack,
    stages: outcome.stages.map(toStageOutput),
    scored_stage: outcome.scoredStage,
    messages: outcome.messages,
    score: outcome.score,
    model: outcome.model,
    score_ms: roundMs(outcome.scoreMs),
    total_ms: roundMs(outcome.totalMs),
    trace_id: outcome.traceId,
  };
}

export function toStackDescription(stack: StackDefinition): StackDescription {
  return {
    name: stack.name,
    description: stack.description,
    default_deadline_ms: totalBudgetMs(stack.stages),
    stages: stack.stages.map((s) => ({
      name: s.name,
      model: s.model,
      subject: `${s.subjectPrefix}.run`,
      system: s.system,
      template: s.template.source,
      params: s.params satisfies GenerationParams,
      budget_ms: s.budgetMs,
      handoff: s.handoffFrom !== null,
    })),
  };
}

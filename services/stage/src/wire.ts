// Engine results in their protobuf shape (shared by the gRPC door and the NATS worker).
import type { GenerateResult as WireGenerateResult } from '../../shared/generated/fslm/v1/GenerateResult.ts';
import type { FinishReason as WireFinishReason } from '../../shared/generated/fslm/v1/FinishReason.ts';
import type { FinishReason, GenerateResult } from './types.ts';

const FINISH_REASONS: Record<FinishReason, WireFinishReason> = {
  eos: 'FINISH_REASON_EOS',
  length: 'FINISH_REASON_LENGTH',
  stop: 'FINISH_REASON_STOP',
  cancelled: 'FINISH_REASON_CANCELLED',
  deadline: 'FINISH_REASON_DEADLINE',
};

export function toWireResult(result: GenerateResult, modelVersion: string): WireGenerateResult {
  return {
    text: result.text,
    finish_reason: FINISH_REASONS[result.finishReason],
    usage: { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens },
    timings: {
      queue_ms: result.timings.queueMs,
      prefill_ms: result.timings.prefillMs,
      first_token_ms: result.timings.firstTokenMs,
      decode_ms: result.timings.decodeMs,
      total_ms: result.timings.totalMs,
    },
    request_id: result.requestId,
    model_version: modelVersion,
  };
}

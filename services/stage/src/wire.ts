// Engine results in their protobuf shape (shared by the gRPC door and the NATS worker).
import type { GenerateResult as WireGenerateResult } from '../../shared/generated/fslm/v1/GenerateResult.ts';
import type { FinishReason as WireFinishReason } from '../../shared/generated/fslm/v1/FinishReason.ts';
import type { ScoreResponse } from '../../shared/generated/fslm/v1/ScoreResponse.ts';
import type { TextDelta as WireTextDelta } from '../../shared/generated/fslm/v1/TextDelta.ts';
import type { Timings as WireTimings } from '../../shared/generated/fslm/v1/Timings.ts';
import type { TokenLogprob as WireTokenLogprob } from '../../shared/generated/fslm/v1/TokenLogprob.ts';
import type { FinishReason, GenerateResult, ScoreResult, TextDelta, Timings, TokenLogprob } from './types.ts';

const FINISH_REASONS: Record<FinishReason, WireFinishReason> = {
  eos: 'FINISH_REASON_EOS',
  length: 'FINISH_REASON_LENGTH',
  stop: 'FINISH_REASON_STOP',
  cancelled: 'FINISH_REASON_CANCELLED',
  deadline: 'FINISH_REASON_DEADLINE',
};

function toWireTimings(t: Timings): WireTimings {
  return { queue_ms: t.queueMs, prefill_ms: t.prefillMs, first_token_ms: t.firstTokenMs, decode_ms: t.decodeMs, total_ms: t.totalMs };
}

export function toWireLogprobs(entries: readonly TokenLogprob[]): WireTokenLogprob[] {
  return entries.map((e) => ({
    token_id: e.tokenId, token: e.token, logprob: e.logprob,
    top_logprobs: e.topLogprobs.map((t) => ({ token_id: t.tokenId, token: t.token, logprob: t.logprob })),
  }));
}

export function toWireDelta(delta: TextDelta): WireTextDelta {
  return { seq: delta.seq, text: delta.text, tokens: delta.tokens, logprobs: delta.logprobs ? toWireLogprobs(delta.logprobs) : [] };
}

export function toWireResult(result: GenerateResult, modelVersion: string): WireGenerateResult {
  return {
    text: result.text,
    finish_reason: FINISH_REASONS[result.finishReason],
    usage: { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens },
    timings: toWireTimings(result.timings),
    request_id: result.requestId,
    model_version: modelVersion,
    logprobs: result.logprobs ? toWireLogprobs(result.logprobs) : [],
  };
}

export function toWireScore(result: ScoreResult, modelVersion: string): ScoreResponse {
  return {
    continuations: result.continuations.map((c) => ({ tokens: toWireLogprobs(c.tokens), logprob: c.logprob, greedy: c.greedy })),
    prompt_tokens: result.promptTokens,
    request_id: result.requestId,
    model_version: modelVersion,
    timings: toWireTimings(result.timings),
  };
}

// Original file: proto/fslm/v1/stage.proto

import type { FinishReason as _fslm_v1_FinishReason, FinishReason__Output as _fslm_v1_FinishReason__Output } from '../../fslm/v1/FinishReason';
import type { Usage as _fslm_v1_Usage, Usage__Output as _fslm_v1_Usage__Output } from '../../fslm/v1/Usage';
import type { Timings as _fslm_v1_Timings, Timings__Output as _fslm_v1_Timings__Output } from '../../fslm/v1/Timings';
import type { TokenLogprob as _fslm_v1_TokenLogprob, TokenLogprob__Output as _fslm_v1_TokenLogprob__Output } from '../../fslm/v1/TokenLogprob';

export interface GenerateResult {
  'text'?: (string);
  'finish_reason'?: (_fslm_v1_FinishReason);
  'usage'?: (_fslm_v1_Usage | null);
  'timings'?: (_fslm_v1_Timings | null);
  'request_id'?: (string);
  'model_version'?: (string);
  'logprobs'?: (_fslm_v1_TokenLogprob)[];
}

export interface GenerateResult__Output {
  'text': (string);
  'finish_reason': (_fslm_v1_FinishReason__Output);
  'usage': (_fslm_v1_Usage__Output | null);
  'timings': (_fslm_v1_Timings__Output | null);
  'request_id': (string);
  'model_version': (string);
  'logprobs': (_fslm_v1_TokenLogprob__Output)[];
}

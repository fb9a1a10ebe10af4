// Original file: proto/fslm/v1/stage.proto

import type { ContinuationScore as _fslm_v1_ContinuationScore, ContinuationScore__Output as _fslm_v1_ContinuationScore__Output } from '../../fslm/v1/ContinuationScore';
import type { Timings as _fslm_v1_Timings, Timings__Output as _fslm_v1_Timings__Output } from '../../fslm/v1/Timings';

export interface ScoreResponse {
  'continuations'?: (_fslm_v1_ContinuationScore)[];
  'prompt_tokens'?: (number);
  'request_id'?: (string);
  'model_version'?: (string);
  'timings'?: (_fslm_v1_Timings | null);
}

export interface ScoreResponse__Output {
  'continuations': (_fslm_v1_ContinuationScore__Output)[];
  'prompt_tokens': (number);
  'request_id': (string);
  'model_version': (string);
  'timings': (_fslm_v1_Timings__Output | null);
}

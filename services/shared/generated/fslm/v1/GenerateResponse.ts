// Original file: proto/fslm/v1/stage.proto

import type { TextDelta as _fslm_v1_TextDelta, TextDelta__Output as _fslm_v1_TextDelta__Output } from '../../fslm/v1/TextDelta';
import type { GenerateResult as _fslm_v1_GenerateResult, GenerateResult__Output as _fslm_v1_GenerateResult__Output } from '../../fslm/v1/GenerateResult';

export interface GenerateResponse {
  'delta'?: (_fslm_v1_TextDelta | null);
  'result'?: (_fslm_v1_GenerateResult | null);
  'event'?: "delta"|"result";
}

export interface GenerateResponse__Output {
  'delta'?: (_fslm_v1_TextDelta__Output | null);
  'result'?: (_fslm_v1_GenerateResult__Output | null);
  'event'?: "delta"|"result";
}

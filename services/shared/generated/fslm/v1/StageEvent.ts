// Original file: proto/fslm/v1/bus.proto

import type { StageAccepted as _fslm_v1_StageAccepted, StageAccepted__Output as _fslm_v1_StageAccepted__Output } from '../../fslm/v1/StageAccepted';
import type { Heartbeat as _fslm_v1_Heartbeat, Heartbeat__Output as _fslm_v1_Heartbeat__Output } from '../../fslm/v1/Heartbeat';
import type { TextDelta as _fslm_v1_TextDelta, TextDelta__Output as _fslm_v1_TextDelta__Output } from '../../fslm/v1/TextDelta';
import type { GenerateResult as _fslm_v1_GenerateResult, GenerateResult__Output as _fslm_v1_GenerateResult__Output } from '../../fslm/v1/GenerateResult';

export interface StageEvent {
  'request_id'?: (string);
  'accepted'?: (_fslm_v1_StageAccepted | null);
  'heartbeat'?: (_fslm_v1_Heartbeat | null);
  'delta'?: (_fslm_v1_TextDelta | null);
  'result'?: (_fslm_v1_GenerateResult | null);
  'event'?: "accepted"|"heartbeat"|"delta"|"result";
}

export interface StageEvent__Output {
  'request_id': (string);
  'accepted'?: (_fslm_v1_StageAccepted__Output | null);
  'heartbeat'?: (_fslm_v1_Heartbeat__Output | null);
  'delta'?: (_fslm_v1_TextDelta__Output | null);
  'result'?: (_fslm_v1_GenerateResult__Output | null);
  'event'?: "accepted"|"heartbeat"|"delta"|"result";
}

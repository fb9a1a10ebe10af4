// Original file: proto/fslm/v1/bus.proto

import type { HandoffAppend as _fslm_v1_HandoffAppend, HandoffAppend__Output as _fslm_v1_HandoffAppend__Output } from '../../fslm/v1/HandoffAppend';
import type { HandoffStart as _fslm_v1_HandoffStart, HandoffStart__Output as _fslm_v1_HandoffStart__Output } from '../../fslm/v1/HandoffStart';
import type { Cancel as _fslm_v1_Cancel, Cancel__Output as _fslm_v1_Cancel__Output } from '../../fslm/v1/Cancel';

export interface StageControl {
  'request_id'?: (string);
  'append'?: (_fslm_v1_HandoffAppend | null);
  'start'?: (_fslm_v1_HandoffStart | null);
  'cancel'?: (_fslm_v1_Cancel | null);
  'action'?: "append"|"start"|"cancel";
}

export interface StageControl__Output {
  'request_id': (string);
  'append'?: (_fslm_v1_HandoffAppend__Output | null);
  'start'?: (_fslm_v1_HandoffStart__Output | null);
  'cancel'?: (_fslm_v1_Cancel__Output | null);
  'action'?: "append"|"start"|"cancel";
}

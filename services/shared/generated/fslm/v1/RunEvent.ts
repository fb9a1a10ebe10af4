// Original file: proto/fslm/v1/stack.proto

import type { StageStarted as _fslm_v1_StageStarted, StageStarted__Output as _fslm_v1_StageStarted__Output } from '../../fslm/v1/StageStarted';
import type { StageDelta as _fslm_v1_StageDelta, StageDelta__Output as _fslm_v1_StageDelta__Output } from '../../fslm/v1/StageDelta';
import type { StageFinished as _fslm_v1_StageFinished, StageFinished__Output as _fslm_v1_StageFinished__Output } from '../../fslm/v1/StageFinished';
import type { RunResponse as _fslm_v1_RunResponse, RunResponse__Output as _fslm_v1_RunResponse__Output } from '../../fslm/v1/RunResponse';
import type { RunError as _fslm_v1_RunError, RunError__Output as _fslm_v1_RunError__Output } from '../../fslm/v1/RunError';

export interface RunEvent {
  'stage_started'?: (_fslm_v1_StageStarted | null);
  'stage_delta'?: (_fslm_v1_StageDelta | null);
  'stage_finished'?: (_fslm_v1_StageFinished | null);
  'final'?: (_fslm_v1_RunResponse | null);
  'error'?: (_fslm_v1_RunError | null);
  'event'?: "stage_started"|"stage_delta"|"stage_finished"|"final"|"error";
}

export interface RunEvent__Output {
  'stage_started'?: (_fslm_v1_StageStarted__Output | null);
  'stage_delta'?: (_fslm_v1_StageDelta__Output | null);
  'stage_finished'?: (_fslm_v1_StageFinished__Output | null);
  'final'?: (_fslm_v1_RunResponse__Output | null);
  'error'?: (_fslm_v1_RunError__Output | null);
  'event'?: "stage_started"|"stage_delta"|"stage_finished"|"final"|"error";
}

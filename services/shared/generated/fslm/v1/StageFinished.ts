// Original file: proto/fslm/v1/stack.proto

import type { StageOutput as _fslm_v1_StageOutput, StageOutput__Output as _fslm_v1_StageOutput__Output } from '../../fslm/v1/StageOutput';

export interface StageFinished {
  'output'?: (_fslm_v1_StageOutput | null);
}

export interface StageFinished__Output {
  'output': (_fslm_v1_StageOutput__Output | null);
}

// Original file: proto/fslm/v1/stack.proto

import type { TextDelta as _fslm_v1_TextDelta, TextDelta__Output as _fslm_v1_TextDelta__Output } from '../../fslm/v1/TextDelta';

export interface StageDelta {
  'stage'?: (string);
  'index'?: (number);
  'attempt'?: (number);
  'delta'?: (_fslm_v1_TextDelta | null);
}

export interface StageDelta__Output {
  'stage': (string);
  'index': (number);
  'attempt': (number);
  'delta': (_fslm_v1_TextDelta__Output | null);
}

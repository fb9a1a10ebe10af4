// Original file: proto/fslm/v1/stack.proto

import type { StageDescription as _fslm_v1_StageDescription, StageDescription__Output as _fslm_v1_StageDescription__Output } from '../../fslm/v1/StageDescription';

export interface StackDescription {
  'name'?: (string);
  'description'?: (string);
  'stages'?: (_fslm_v1_StageDescription)[];
  'default_deadline_ms'?: (number);
}

export interface StackDescription__Output {
  'name': (string);
  'description': (string);
  'stages': (_fslm_v1_StageDescription__Output)[];
  'default_deadline_ms': (number);
}

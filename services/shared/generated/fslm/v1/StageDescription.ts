// Original file: proto/fslm/v1/stack.proto

import type { GenerationParams as _fslm_v1_GenerationParams, GenerationParams__Output as _fslm_v1_GenerationParams__Output } from '../../fslm/v1/GenerationParams';

export interface StageDescription {
  'name'?: (string);
  'model'?: (string);
  'subject'?: (string);
  'system'?: (string);
  'template'?: (string);
  'params'?: (_fslm_v1_GenerationParams | null);
  'budget_ms'?: (number);
  'handoff'?: (boolean);
}

export interface StageDescription__Output {
  'name': (string);
  'model': (string);
  'subject': (string);
  'system': (string);
  'template': (string);
  'params': (_fslm_v1_GenerationParams__Output | null);
  'budget_ms': (number);
  'handoff': (boolean);
}

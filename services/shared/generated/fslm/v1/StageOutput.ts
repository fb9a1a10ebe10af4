// Original file: proto/fslm/v1/stack.proto

import type { FinishReason as _fslm_v1_FinishReason, FinishReason__Output as _fslm_v1_FinishReason__Output } from '../../fslm/v1/FinishReason';
import type { Usage as _fslm_v1_Usage, Usage__Output as _fslm_v1_Usage__Output } from '../../fslm/v1/Usage';
import type { Timings as _fslm_v1_Timings, Timings__Output as _fslm_v1_Timings__Output } from '../../fslm/v1/Timings';

export interface StageOutput {
  'stage'?: (string);
  'index'?: (number);
  'text'?: (string);
  'finish_reason'?: (_fslm_v1_FinishReason);
  'usage'?: (_fslm_v1_Usage | null);
  'timings'?: (_fslm_v1_Timings | null);
  'model'?: (string);
  'model_version'?: (string);
  'replica'?: (string);
  'attempts'?: (number);
  'streamed_handoff'?: (boolean);
  'handoff_gap_ms'?: (number | string);
  'duration_ms'?: (number | string);
  'adapter_version'?: (string);
}

export interface StageOutput__Output {
  'stage': (string);
  'index': (number);
  'text': (string);
  'finish_reason': (_fslm_v1_FinishReason__Output);
  'usage': (_fslm_v1_Usage__Output | null);
  'timings': (_fslm_v1_Timings__Output | null);
  'model': (string);
  'model_version': (string);
  'replica': (string);
  'attempts': (number);
  'streamed_handoff': (boolean);
  'handoff_gap_ms': (number);
  'duration_ms': (number);
  'adapter_version': (string);
}

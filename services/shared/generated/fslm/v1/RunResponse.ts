// Original file: proto/fslm/v1/stack.proto

import type { StageOutput as _fslm_v1_StageOutput, StageOutput__Output as _fslm_v1_StageOutput__Output } from '../../fslm/v1/StageOutput';
import type { Usage as _fslm_v1_Usage, Usage__Output as _fslm_v1_Usage__Output } from '../../fslm/v1/Usage';

export interface RunResponse {
  'request_id'?: (string);
  'stack'?: (string);
  'text'?: (string);
  'stages'?: (_fslm_v1_StageOutput)[];
  'usage'?: (_fslm_v1_Usage | null);
  'total_ms'?: (number | string);
  'trace_id'?: (string);
}

export interface RunResponse__Output {
  'request_id': (string);
  'stack': (string);
  'text': (string);
  'stages': (_fslm_v1_StageOutput__Output)[];
  'usage': (_fslm_v1_Usage__Output | null);
  'total_ms': (number);
  'trace_id': (string);
}

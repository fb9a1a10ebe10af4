// Original file: proto/fslm/v1/stack.proto

import type { GenerationParams as _fslm_v1_GenerationParams, GenerationParams__Output as _fslm_v1_GenerationParams__Output } from '../../fslm/v1/GenerationParams';

export interface StackScoreRequest {
  'stack'?: (string);
  'input'?: (string);
  'continuations'?: (string)[];
  'top_logprobs'?: (number);
  'request_id'?: (string);
  'params'?: ({[key: string]: _fslm_v1_GenerationParams});
  'disable_handoff'?: (boolean);
}

export interface StackScoreRequest__Output {
  'stack': (string);
  'input': (string);
  'continuations': (string)[];
  'top_logprobs': (number);
  'request_id': (string);
  'params': ({[key: string]: _fslm_v1_GenerationParams__Output});
  'disable_handoff': (boolean);
}

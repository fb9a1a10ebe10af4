// Original file: proto/fslm/v1/bus.proto

import type { GenerateRequest as _fslm_v1_GenerateRequest, GenerateRequest__Output as _fslm_v1_GenerateRequest__Output } from '../../fslm/v1/GenerateRequest';

export interface StageRun {
  'request'?: (_fslm_v1_GenerateRequest | null);
  'stack'?: (string);
  'stage'?: (string);
  'attempt'?: (number);
  'heartbeat_ms'?: (number);
  'handoff_sentinel'?: (string);
}

export interface StageRun__Output {
  'request': (_fslm_v1_GenerateRequest__Output | null);
  'stack': (string);
  'stage': (string);
  'attempt': (number);
  'heartbeat_ms': (number);
  'handoff_sentinel': (string);
}

// Original file: proto/fslm/v1/stack.proto

import type { StageOutput as _fslm_v1_StageOutput, StageOutput__Output as _fslm_v1_StageOutput__Output } from '../../fslm/v1/StageOutput';
import type { ChatMessage as _fslm_v1_ChatMessage, ChatMessage__Output as _fslm_v1_ChatMessage__Output } from '../../fslm/v1/ChatMessage';
import type { ScoreResponse as _fslm_v1_ScoreResponse, ScoreResponse__Output as _fslm_v1_ScoreResponse__Output } from '../../fslm/v1/ScoreResponse';

export interface StackScoreResponse {
  'request_id'?: (string);
  'stack'?: (string);
  'stages'?: (_fslm_v1_StageOutput)[];
  'scored_stage'?: (string);
  'messages'?: (_fslm_v1_ChatMessage)[];
  'score'?: (_fslm_v1_ScoreResponse | null);
  'model'?: (string);
  'score_ms'?: (number | string);
  'total_ms'?: (number | string);
  'trace_id'?: (string);
}

export interface StackScoreResponse__Output {
  'request_id': (string);
  'stack': (string);
  'stages': (_fslm_v1_StageOutput__Output)[];
  'scored_stage': (string);
  'messages': (_fslm_v1_ChatMessage__Output)[];
  'score': (_fslm_v1_ScoreResponse__Output | null);
  'model': (string);
  'score_ms': (number);
  'total_ms': (number);
  'trace_id': (string);
}

// Original file: proto/fslm/v1/stage.proto

import type { ChatMessage as _fslm_v1_ChatMessage, ChatMessage__Output as _fslm_v1_ChatMessage__Output } from '../../fslm/v1/ChatMessage';
import type { GenerationParams as _fslm_v1_GenerationParams, GenerationParams__Output as _fslm_v1_GenerationParams__Output } from '../../fslm/v1/GenerationParams';

export interface GenerateRequest {
  'prompt'?: (string);
  'messages'?: (_fslm_v1_ChatMessage)[];
  'params'?: (_fslm_v1_GenerationParams | null);
  'request_id'?: (string);
}

export interface GenerateRequest__Output {
  'prompt': (string);
  'messages': (_fslm_v1_ChatMessage__Output)[];
  'params': (_fslm_v1_GenerationParams__Output | null);
  'request_id': (string);
}

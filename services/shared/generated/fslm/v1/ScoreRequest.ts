// Original file: proto/fslm/v1/stage.proto

import type { ChatMessage as _fslm_v1_ChatMessage, ChatMessage__Output as _fslm_v1_ChatMessage__Output } from '../../fslm/v1/ChatMessage';

export interface ScoreRequest {
  'prompt'?: (string);
  'messages'?: (_fslm_v1_ChatMessage)[];
  'continuations'?: (string)[];
  'top_logprobs'?: (number);
  'request_id'?: (string);
}

export interface ScoreRequest__Output {
  'prompt': (string);
  'messages': (_fslm_v1_ChatMessage__Output)[];
  'continuations': (string)[];
  'top_logprobs': (number);
  'request_id': (string);
}

// Original file: proto/fslm/v1/generation.proto


export interface ChatMessage {
  'role'?: (string);
  'content'?: (string);
}

export interface ChatMessage__Output {
  'role': (string);
  'content': (string);
}

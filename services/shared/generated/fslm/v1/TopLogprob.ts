// Original file: proto/fslm/v1/generation.proto


export interface TopLogprob {
  'token_id'?: (number);
  'token'?: (string);
  'logprob'?: (number | string);
}

export interface TopLogprob__Output {
  'token_id': (number);
  'token': (string);
  'logprob': (number);
}

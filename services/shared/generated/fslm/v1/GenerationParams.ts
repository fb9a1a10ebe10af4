// Original file: proto/fslm/v1/generation.proto

import type { Long } from '@grpc/proto-loader';

export interface GenerationParams {
  'max_new_tokens'?: (number);
  'temperature'?: (number | string);
  'top_k'?: (number);
  'top_p'?: (number | string);
  'repetition_penalty'?: (number | string);
  'seed'?: (number | string | Long);
  'stop'?: (string)[];
  'logprobs'?: (boolean);
  'top_logprobs'?: (number);
  '_seed'?: "seed";
}

export interface GenerationParams__Output {
  'max_new_tokens': (number);
  'temperature': (number);
  'top_k': (number);
  'top_p': (number);
  'repetition_penalty': (number);
  'seed'?: (string);
  'stop': (string)[];
  'logprobs': (boolean);
  'top_logprobs': (number);
  '_seed'?: "seed";
}

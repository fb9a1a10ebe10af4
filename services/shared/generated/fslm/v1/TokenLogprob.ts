// Original file: proto/fslm/v1/generation.proto

import type { TopLogprob as _fslm_v1_TopLogprob, TopLogprob__Output as _fslm_v1_TopLogprob__Output } from '../../fslm/v1/TopLogprob';

export interface TokenLogprob {
  'token_id'?: (number);
  'token'?: (string);
  'logprob'?: (number | string);
  'top_logprobs'?: (_fslm_v1_TopLogprob)[];
}

export interface TokenLogprob__Output {
  'token_id': (number);
  'token': (string);
  'logprob': (number);
  'top_logprobs': (_fslm_v1_TopLogprob__Output)[];
}

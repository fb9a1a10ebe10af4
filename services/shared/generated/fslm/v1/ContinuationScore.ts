// Original file: proto/fslm/v1/stage.proto

import type { TokenLogprob as _fslm_v1_TokenLogprob, TokenLogprob__Output as _fslm_v1_TokenLogprob__Output } from '../../fslm/v1/TokenLogprob';

export interface ContinuationScore {
  'tokens'?: (_fslm_v1_TokenLogprob)[];
  'logprob'?: (number | string);
  'greedy'?: (boolean);
}

export interface ContinuationScore__Output {
  'tokens': (_fslm_v1_TokenLogprob__Output)[];
  'logprob': (number);
  'greedy': (boolean);
}

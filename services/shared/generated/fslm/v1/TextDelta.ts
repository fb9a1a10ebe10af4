// Original file: proto/fslm/v1/stage.proto

import type { TokenLogprob as _fslm_v1_TokenLogprob, TokenLogprob__Output as _fslm_v1_TokenLogprob__Output } from '../../fslm/v1/TokenLogprob';
import type { Long } from '@grpc/proto-loader';

export interface TextDelta {
  'seq'?: (number | string | Long);
  'text'?: (string);
  'tokens'?: (number);
  'logprobs'?: (_fslm_v1_TokenLogprob)[];
}

export interface TextDelta__Output {
  'seq': (string);
  'text': (string);
  'tokens': (number);
  'logprobs': (_fslm_v1_TokenLogprob__Output)[];
}

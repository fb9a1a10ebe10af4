// Original file: proto/fslm/v1/stage.proto

import type { Long } from '@grpc/proto-loader';

export interface TextDelta {
  'seq'?: (number | string | Long);
  'text'?: (string);
  'tokens'?: (number);
}

export interface TextDelta__Output {
  'seq': (string);
  'text': (string);
  'tokens': (number);
}

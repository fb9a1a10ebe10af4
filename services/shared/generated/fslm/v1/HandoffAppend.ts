// Original file: proto/fslm/v1/bus.proto

import type { Long } from '@grpc/proto-loader';

export interface HandoffAppend {
  'seq'?: (number | string | Long);
  'text'?: (string);
}

export interface HandoffAppend__Output {
  'seq': (string);
  'text': (string);
}

// Original file: proto/fslm/v1/bus.proto

import type { Long } from '@grpc/proto-loader';

export interface Heartbeat {
  'seq'?: (number | string | Long);
  'completion_tokens'?: (number);
}

export interface Heartbeat__Output {
  'seq': (string);
  'completion_tokens': (number);
}

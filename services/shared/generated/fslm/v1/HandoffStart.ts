// Original file: proto/fslm/v1/bus.proto

import type { Long } from '@grpc/proto-loader';

export interface HandoffStart {
  'text'?: (string);
  'deadline_unix_ms'?: (number | string | Long);
}

export interface HandoffStart__Output {
  'text': (string);
  'deadline_unix_ms': (string);
}

// Original file: proto/fslm/v1/generation.proto


export interface Timings {
  'queue_ms'?: (number | string);
  'prefill_ms'?: (number | string);
  'first_token_ms'?: (number | string);
  'decode_ms'?: (number | string);
  'total_ms'?: (number | string);
}

export interface Timings__Output {
  'queue_ms': (number);
  'prefill_ms': (number);
  'first_token_ms': (number);
  'decode_ms': (number);
  'total_ms': (number);
}

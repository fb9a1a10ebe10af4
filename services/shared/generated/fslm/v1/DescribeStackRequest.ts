// Original file: proto/fslm/v1/stack.proto


export interface DescribeStackRequest {
  'stack'?: (string);
}

export interface DescribeStackRequest__Output {
  'stack': (string);
}

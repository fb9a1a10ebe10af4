// Original file: proto/fslm/v1/stack.proto


export interface RunError {
  'code'?: (string);
  'message'?: (string);
  'stage'?: (string);
}

export interface RunError__Output {
  'code': (string);
  'message': (string);
  'stage': (string);
}

// Original file: proto/fslm/v1/stack.proto


export interface StageStarted {
  'stage'?: (string);
  'index'?: (number);
  'attempt'?: (number);
  'replica'?: (string);
  'model'?: (string);
  'model_version'?: (string);
  'adapter_version'?: (string);
}

export interface StageStarted__Output {
  'stage': (string);
  'index': (number);
  'attempt': (number);
  'replica': (string);
  'model': (string);
  'model_version': (string);
  'adapter_version': (string);
}

// Original file: proto/fslm/v1/bus.proto


export interface StageAccepted {
  'replica'?: (string);
  'control_subject'?: (string);
  'model'?: (string);
  'model_version'?: (string);
  'adapter_version'?: (string);
}

export interface StageAccepted__Output {
  'replica': (string);
  'control_subject': (string);
  'model': (string);
  'model_version': (string);
  'adapter_version': (string);
}

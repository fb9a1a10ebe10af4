// Original file: proto/fslm/v1/bus.proto


export interface Cancel {
  'reason'?: (string);
}

export interface Cancel__Output {
  'reason': (string);
}

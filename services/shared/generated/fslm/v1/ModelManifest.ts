// Original file: proto/fslm/v1/stage.proto

import type { DecoderInfo as _fslm_v1_DecoderInfo, DecoderInfo__Output as _fslm_v1_DecoderInfo__Output } from '../../fslm/v1/DecoderInfo';

export interface ModelManifest {
  'format'?: (number);
  'name'?: (string);
  'stage'?: (string);
  'base_model'?: (string);
  'architecture'?: (string);
  'training_run'?: (string);
  'trace_id'?: (string);
  'decoder'?: (_fslm_v1_DecoderInfo | null);
  'onnx'?: ({[key: string]: string});
  'files'?: ({[key: string]: string});
  'metrics'?: ({[key: string]: number | string});
  'created'?: (string);
  'version'?: (string);
  'adapter_version'?: (string);
}

export interface ModelManifest__Output {
  'format': (number);
  'name': (string);
  'stage': (string);
  'base_model': (string);
  'architecture': (string);
  'training_run': (string);
  'trace_id': (string);
  'decoder': (_fslm_v1_DecoderInfo__Output | null);
  'onnx': ({[key: string]: string});
  'files': ({[key: string]: string});
  'metrics': ({[key: string]: number});
  'created': (string);
  'version': (string);
  'adapter_version': (string);
}

// Original file: proto/fslm/v1/stage.proto

import type { ModelManifest as _fslm_v1_ModelManifest, ModelManifest__Output as _fslm_v1_ModelManifest__Output } from '../../fslm/v1/ModelManifest';
import type { Long } from '@grpc/proto-loader';

export interface DescribeResponse {
  'manifest'?: (_fslm_v1_ModelManifest | null);
  'precision'?: (string);
  'has_chat_template'?: (boolean);
  'max_batch_size'?: (number);
  'max_queue'?: (number);
  'max_prompt_tokens'?: (number);
  'max_new_tokens_limit'?: (number);
  'default_max_new_tokens'?: (number);
  'parameters'?: (number | string | Long);
}

export interface DescribeResponse__Output {
  'manifest': (_fslm_v1_ModelManifest__Output | null);
  'precision': (string);
  'has_chat_template': (boolean);
  'max_batch_size': (number);
  'max_queue': (number);
  'max_prompt_tokens': (number);
  'max_new_tokens_limit': (number);
  'default_max_new_tokens': (number);
  'parameters': (string);
}

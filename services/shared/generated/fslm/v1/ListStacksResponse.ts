// Original file: proto/fslm/v1/stack.proto

import type { StackDescription as _fslm_v1_StackDescription, StackDescription__Output as _fslm_v1_StackDescription__Output } from '../../fslm/v1/StackDescription';

export interface ListStacksResponse {
  'stacks'?: (_fslm_v1_StackDescription)[];
}

export interface ListStacksResponse__Output {
  'stacks': (_fslm_v1_StackDescription__Output)[];
}

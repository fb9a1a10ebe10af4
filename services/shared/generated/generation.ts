import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ChatMessage as _fslm_v1_ChatMessage, ChatMessage__Output as _fslm_v1_ChatMessage__Output } from './fslm/v1/ChatMessage';
import type { GenerationParams as _fslm_v1_GenerationParams, GenerationParams__Output as _fslm_v1_GenerationParams__Output } from './fslm/v1/GenerationParams';
import type { Timings as _fslm_v1_Timings, Timings__Output as _fslm_v1_Timings__Output } from './fslm/v1/Timings';
import type { TokenLogprob as _fslm_v1_TokenLogprob, TokenLogprob__Output as _fslm_v1_TokenLogprob__Output } from './fslm/v1/TokenLogprob';
import type { TopLogprob as _fslm_v1_TopLogprob, TopLogprob__Output as _fslm_v1_TopLogprob__Output } from './fslm/v1/TopLogprob';
import type { Usage as _fslm_v1_Usage, Usage__Output as _fslm_v1_Usage__Output } from './fslm/v1/Usage';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  fslm: {
    v1: {
      ChatMessage: MessageTypeDefinition<_fslm_v1_ChatMessage, _fslm_v1_ChatMessage__Output>
      FinishReason: EnumTypeDefinition
      GenerationParams: MessageTypeDefinition<_fslm_v1_GenerationParams, _fslm_v1_GenerationParams__Output>
      Timings: MessageTypeDefinition<_fslm_v1_Timings, _fslm_v1_Timings__Output>
      TokenLogprob: MessageTypeDefinition<_fslm_v1_TokenLogprob, _fslm_v1_TokenLogprob__Output>
      TopLogprob: MessageTypeDefinition<_fslm_v1_TopLogprob, _fslm_v1_TopLogprob__Output>
      Usage: MessageTypeDefinition<_fslm_v1_Usage, _fslm_v1_Usage__Output>
    }
  }
}


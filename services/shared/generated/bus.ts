import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Cancel as _fslm_v1_Cancel, Cancel__Output as _fslm_v1_Cancel__Output } from './fslm/v1/Cancel';
import type { ChatMessage as _fslm_v1_ChatMessage, ChatMessage__Output as _fslm_v1_ChatMessage__Output } from './fslm/v1/ChatMessage';
import type { ContinuationScore as _fslm_v1_ContinuationScore, ContinuationScore__Output as _fslm_v1_ContinuationScore__Output } from './fslm/v1/ContinuationScore';
import type { DecoderInfo as _fslm_v1_DecoderInfo, DecoderInfo__Output as _fslm_v1_DecoderInfo__Output } from './fslm/v1/DecoderInfo';
import type { DescribeRequest as _fslm_v1_DescribeRequest, DescribeRequest__Output as _fslm_v1_DescribeRequest__Output } from './fslm/v1/DescribeRequest';
import type { DescribeResponse as _fslm_v1_DescribeResponse, DescribeResponse__Output as _fslm_v1_DescribeResponse__Output } from './fslm/v1/DescribeResponse';
import type { GenerateRequest as _fslm_v1_GenerateRequest, GenerateRequest__Output as _fslm_v1_GenerateRequest__Output } from './fslm/v1/GenerateRequest';
import type { GenerateResponse as _fslm_v1_GenerateResponse, GenerateResponse__Output as _fslm_v1_GenerateResponse__Output } from './fslm/v1/GenerateResponse';
import type { GenerateResult as _fslm_v1_GenerateResult, GenerateResult__Output as _fslm_v1_GenerateResult__Output } from './fslm/v1/GenerateResult';
import type { GenerationParams as _fslm_v1_GenerationParams, GenerationParams__Output as _fslm_v1_GenerationParams__Output } from './fslm/v1/GenerationParams';
import type { HandoffAppend as _fslm_v1_HandoffAppend, HandoffAppend__Output as _fslm_v1_HandoffAppend__Output } from './fslm/v1/HandoffAppend';
import type { HandoffStart as _fslm_v1_HandoffStart, HandoffStart__Output as _fslm_v1_HandoffStart__Output } from './fslm/v1/HandoffStart';
import type { Heartbeat as _fslm_v1_Heartbeat, Heartbeat__Output as _fslm_v1_Heartbeat__Output } from './fslm/v1/Heartbeat';
import type { ModelManifest as _fslm_v1_ModelManifest, ModelManifest__Output as _fslm_v1_ModelManifest__Output } from './fslm/v1/ModelManifest';
import type { ScoreRequest as _fslm_v1_ScoreRequest, ScoreRequest__Output as _fslm_v1_ScoreRequest__Output } from './fslm/v1/ScoreRequest';
import type { ScoreResponse as _fslm_v1_ScoreResponse, ScoreResponse__Output as _fslm_v1_ScoreResponse__Output } from './fslm/v1/ScoreResponse';
import type { StageAccepted as _fslm_v1_StageAccepted, StageAccepted__Output as _fslm_v1_StageAccepted__Output } from './fslm/v1/StageAccepted';
import type { StageBusClient as _fslm_v1_StageBusClient, StageBusDefinition as _fslm_v1_StageBusDefinition } from './fslm/v1/StageBus';
import type { StageControl as _fslm_v1_StageControl, StageControl__Output as _fslm_v1_StageControl__Output } from './fslm/v1/StageControl';
import type { StageEvent as _fslm_v1_StageEvent, StageEvent__Output as _fslm_v1_StageEvent__Output } from './fslm/v1/StageEvent';
import type { StageRun as _fslm_v1_StageRun, StageRun__Output as _fslm_v1_StageRun__Output } from './fslm/v1/StageRun';
import type { StageServiceClient as _fslm_v1_StageServiceClient, StageServiceDefinition as _fslm_v1_StageServiceDefinition } from './fslm/v1/StageService';
import type { TextDelta as _fslm_v1_TextDelta, TextDelta__Output as _fslm_v1_TextDelta__Output } from './fslm/v1/TextDelta';
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
      Cancel: MessageTypeDefinition<_fslm_v1_Cancel, _fslm_v1_Cancel__Output>
      ChatMessage: MessageTypeDefinition<_fslm_v1_ChatMessage, _fslm_v1_ChatMessage__Output>
      ContinuationScore: MessageTypeDefinition<_fslm_v1_ContinuationScore, _fslm_v1_ContinuationScore__Output>
      DecoderInfo: MessageTypeDefinition<_fslm_v1_DecoderInfo, _fslm_v1_DecoderInfo__Output>
      DescribeRequest: MessageTypeDefinition<_fslm_v1_DescribeRequest, _fslm_v1_DescribeRequest__Output>
      DescribeResponse: MessageTypeDefinition<_fslm_v1_DescribeResponse, _fslm_v1_DescribeResponse__Output>
      FinishReason: EnumTypeDefinition
      GenerateRequest: MessageTypeDefinition<_fslm_v1_GenerateRequest, _fslm_v1_GenerateRequest__Output>
      GenerateResponse: MessageTypeDefinition<_fslm_v1_GenerateResponse, _fslm_v1_GenerateResponse__Output>
      GenerateResult: MessageTypeDefinition<_fslm_v1_GenerateResult, _fslm_v1_GenerateResult__Output>
      GenerationParams: MessageTypeDefinition<_fslm_v1_GenerationParams, _fslm_v1_GenerationParams__Output>
      HandoffAppend: MessageTypeDefinition<_fslm_v1_HandoffAppend, _fslm_v1_HandoffAppend__Output>
      HandoffStart: MessageTypeDefinition<_fslm_v1_HandoffStart, _fslm_v1_HandoffStart__Output>
      Heartbeat: MessageTypeDefinition<_fslm_v1_Heartbeat, _fslm_v1_Heartbeat__Output>
      ModelManifest: MessageTypeDefinition<_fslm_v1_ModelManifest, _fslm_v1_ModelManifest__Output>
      ScoreRequest: MessageTypeDefinition<_fslm_v1_ScoreRequest, _fslm_v1_ScoreRequest__Output>
      ScoreResponse: MessageTypeDefinition<_fslm_v1_ScoreResponse, _fslm_v1_ScoreResponse__Output>
      StageAccepted: MessageTypeDefinition<_fslm_v1_StageAccepted, _fslm_v1_StageAccepted__Output>
      StageBus: SubtypeConstructor<typeof grpc.Client, _fslm_v1_StageBusClient> & { service: _fslm_v1_StageBusDefinition }
      StageControl: MessageTypeDefinition<_fslm_v1_StageControl, _fslm_v1_StageControl__Output>
      StageEvent: MessageTypeDefinition<_fslm_v1_StageEvent, _fslm_v1_StageEvent__Output>
      StageRun: MessageTypeDefinition<_fslm_v1_StageRun, _fslm_v1_StageRun__Output>
      StageService: SubtypeConstructor<typeof grpc.Client, _fslm_v1_StageServiceClient> & { service: _fslm_v1_StageServiceDefinition }
      TextDelta: MessageTypeDefinition<_fslm_v1_TextDelta, _fslm_v1_TextDelta__Output>
      Timings: MessageTypeDefinition<_fslm_v1_Timings, _fslm_v1_Timings__Output>
      TokenLogprob: MessageTypeDefinition<_fslm_v1_TokenLogprob, _fslm_v1_TokenLogprob__Output>
      TopLogprob: MessageTypeDefinition<_fslm_v1_TopLogprob, _fslm_v1_TopLogprob__Output>
      Usage: MessageTypeDefinition<_fslm_v1_Usage, _fslm_v1_Usage__Output>
    }
  }
}


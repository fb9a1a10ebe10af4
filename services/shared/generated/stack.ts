import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ChatMessage as _fslm_v1_ChatMessage, ChatMessage__Output as _fslm_v1_ChatMessage__Output } from './fslm/v1/ChatMessage';
import type { ContinuationScore as _fslm_v1_ContinuationScore, ContinuationScore__Output as _fslm_v1_ContinuationScore__Output } from './fslm/v1/ContinuationScore';
import type { DecoderInfo as _fslm_v1_DecoderInfo, DecoderInfo__Output as _fslm_v1_DecoderInfo__Output } from './fslm/v1/DecoderInfo';
import type { DescribeRequest as _fslm_v1_DescribeRequest, DescribeRequest__Output as _fslm_v1_DescribeRequest__Output } from './fslm/v1/DescribeRequest';
import type { DescribeResponse as _fslm_v1_DescribeResponse, DescribeResponse__Output as _fslm_v1_DescribeResponse__Output } from './fslm/v1/DescribeResponse';
import type { DescribeStackRequest as _fslm_v1_DescribeStackRequest, DescribeStackRequest__Output as _fslm_v1_DescribeStackRequest__Output } from './fslm/v1/DescribeStackRequest';
import type { GenerateRequest as _fslm_v1_GenerateRequest, GenerateRequest__Output as _fslm_v1_GenerateRequest__Output } from './fslm/v1/GenerateRequest';
import type { GenerateResponse as _fslm_v1_GenerateResponse, GenerateResponse__Output as _fslm_v1_GenerateResponse__Output } from './fslm/v1/GenerateResponse';
import type { GenerateResult as _fslm_v1_GenerateResult, GenerateResult__Output as _fslm_v1_GenerateResult__Output } from './fslm/v1/GenerateResult';
import type { GenerationParams as _fslm_v1_GenerationParams, GenerationParams__Output as _fslm_v1_GenerationParams__Output } from './fslm/v1/GenerationParams';
import type { ListStacksRequest as _fslm_v1_ListStacksRequest, ListStacksRequest__Output as _fslm_v1_ListStacksRequest__Output } from './fslm/v1/ListStacksRequest';
import type { ListStacksResponse as _fslm_v1_ListStacksResponse, ListStacksResponse__Output as _fslm_v1_ListStacksResponse__Output } from './fslm/v1/ListStacksResponse';
import type { ModelManifest as _fslm_v1_ModelManifest, ModelManifest__Output as _fslm_v1_ModelManifest__Output } from './fslm/v1/ModelManifest';
import type { RunError as _fslm_v1_RunError, RunError__Output as _fslm_v1_RunError__Output } from './fslm/v1/RunError';
import type { RunEvent as _fslm_v1_RunEvent, RunEvent__Output as _fslm_v1_RunEvent__Output } from './fslm/v1/RunEvent';
import type { RunRequest as _fslm_v1_RunRequest, RunRequest__Output as _fslm_v1_RunRequest__Output } from './fslm/v1/RunRequest';
import type { RunResponse as _fslm_v1_RunResponse, RunResponse__Output as _fslm_v1_RunResponse__Output } from './fslm/v1/RunResponse';
import type { ScoreRequest as _fslm_v1_ScoreRequest, ScoreRequest__Output as _fslm_v1_ScoreRequest__Output } from './fslm/v1/ScoreRequest';
import type { ScoreResponse as _fslm_v1_ScoreResponse, ScoreResponse__Output as _fslm_v1_ScoreResponse__Output } from './fslm/v1/ScoreResponse';
import type { StackDescription as _fslm_v1_StackDescription, StackDescription__Output as _fslm_v1_StackDescription__Output } from './fslm/v1/StackDescription';
import type { StackScoreRequest as _fslm_v1_StackScoreRequest, StackScoreRequest__Output as _fslm_v1_StackScoreRequest__Output } from './fslm/v1/StackScoreRequest';
import type { StackScoreResponse as _fslm_v1_StackScoreResponse, StackScoreResponse__Output as _fslm_v1_StackScoreResponse__Output } from './fslm/v1/StackScoreResponse';
import type { StackServiceClient as _fslm_v1_StackServiceClient, StackServiceDefinition as _fslm_v1_StackServiceDefinition } from './fslm/v1/StackService';
import type { StageDelta as _fslm_v1_StageDelta, StageDelta__Output as _fslm_v1_StageDelta__Output } from './fslm/v1/StageDelta';
import type { StageDescription as _fslm_v1_StageDescription, StageDescription__Output as _fslm_v1_StageDescription__Output } from './fslm/v1/StageDescription';
import type { StageFinished as _fslm_v1_StageFinished, StageFinished__Output as _fslm_v1_StageFinished__Output } from './fslm/v1/StageFinished';
import type { StageOutput as _fslm_v1_StageOutput, StageOutput__Output as _fslm_v1_StageOutput__Output } from './fslm/v1/StageOutput';
import type { StageServiceClient as _fslm_v1_StageServiceClient, StageServiceDefinition as _fslm_v1_StageServiceDefinition } from './fslm/v1/StageService';
import type { StageStarted as _fslm_v1_StageStarted, StageStarted__Output as _fslm_v1_StageStarted__Output } from './fslm/v1/StageStarted';
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
      ChatMessage: MessageTypeDefinition<_fslm_v1_ChatMessage, _fslm_v1_ChatMessage__Output>
      ContinuationScore: MessageTypeDefinition<_fslm_v1_ContinuationScore, _fslm_v1_ContinuationScore__Output>
      DecoderInfo: MessageTypeDefinition<_fslm_v1_DecoderInfo, _fslm_v1_DecoderInfo__Output>
      DescribeRequest: MessageTypeDefinition<_fslm_v1_DescribeRequest, _fslm_v1_DescribeRequest__Output>
      DescribeResponse: MessageTypeDefinition<_fslm_v1_DescribeResponse, _fslm_v1_DescribeResponse__Output>
      DescribeStackRequest: MessageTypeDefinition<_fslm_v1_DescribeStackRequest, _fslm_v1_DescribeStackRequest__Output>
      FinishReason: EnumTypeDefinition
      GenerateRequest: MessageTypeDefinition<_fslm_v1_GenerateRequest, _fslm_v1_GenerateRequest__Output>
      GenerateResponse: MessageTypeDefinition<_fslm_v1_GenerateResponse, _fslm_v1_GenerateResponse__Output>
      GenerateResult: MessageTypeDefinition<_fslm_v1_GenerateResult, _fslm_v1_GenerateResult__Output>
      GenerationParams: MessageTypeDefinition<_fslm_v1_GenerationParams, _fslm_v1_GenerationParams__Output>
      ListStacksRequest: MessageTypeDefinition<_fslm_v1_ListStacksRequest, _fslm_v1_ListStacksRequest__Output>
      ListStacksResponse: MessageTypeDefinition<_fslm_v1_ListStacksResponse, _fslm_v1_ListStacksResponse__Output>
      ModelManifest: MessageTypeDefinition<_fslm_v1_ModelManifest, _fslm_v1_ModelManifest__Output>
      RunError: MessageTypeDefinition<_fslm_v1_RunError, _fslm_v1_RunError__Output>
      RunEvent: MessageTypeDefinition<_fslm_v1_RunEvent, _fslm_v1_RunEvent__Output>
      RunRequest: MessageTypeDefinition<_fslm_v1_RunRequest, _fslm_v1_RunRequest__Output>
      RunResponse: MessageTypeDefinition<_fslm_v1_RunResponse, _fslm_v1_RunResponse__Output>
      ScoreRequest: MessageTypeDefinition<_fslm_v1_ScoreRequest, _fslm_v1_ScoreRequest__Output>
      ScoreResponse: MessageTypeDefinition<_fslm_v1_ScoreResponse, _fslm_v1_ScoreResponse__Output>
      StackDescription: MessageTypeDefinition<_fslm_v1_StackDescription, _fslm_v1_StackDescription__Output>
      StackScoreRequest: MessageTypeDefinition<_fslm_v1_StackScoreRequest, _fslm_v1_StackScoreRequest__Output>
      StackScoreResponse: MessageTypeDefinition<_fslm_v1_StackScoreResponse, _fslm_v1_StackScoreResponse__Output>
      StackService: SubtypeConstructor<typeof grpc.Client, _fslm_v1_StackServiceClient> & { service: _fslm_v1_StackServiceDefinition }
      StageDelta: MessageTypeDefinition<_fslm_v1_StageDelta, _fslm_v1_StageDelta__Output>
      StageDescription: MessageTypeDefinition<_fslm_v1_StageDescription, _fslm_v1_StageDescription__Output>
      StageFinished: MessageTypeDefinition<_fslm_v1_StageFinished, _fslm_v1_StageFinished__Output>
      StageOutput: MessageTypeDefinition<_fslm_v1_StageOutput, _fslm_v1_StageOutput__Output>
      StageService: SubtypeConstructor<typeof grpc.Client, _fslm_v1_StageServiceClient> & { service: _fslm_v1_StageServiceDefinition }
      StageStarted: MessageTypeDefinition<_fslm_v1_StageStarted, _fslm_v1_StageStarted__Output>
      TextDelta: MessageTypeDefinition<_fslm_v1_TextDelta, _fslm_v1_TextDelta__Output>
      Timings: MessageTypeDefinition<_fslm_v1_Timings, _fslm_v1_Timings__Output>
      TokenLogprob: MessageTypeDefinition<_fslm_v1_TokenLogprob, _fslm_v1_TokenLogprob__Output>
      TopLogprob: MessageTypeDefinition<_fslm_v1_TopLogprob, _fslm_v1_TopLogprob__Output>
      Usage: MessageTypeDefinition<_fslm_v1_Usage, _fslm_v1_Usage__Output>
    }
  }
}


// Original file: proto/fslm/v1/bus.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DescribeRequest as _fslm_v1_DescribeRequest, DescribeRequest__Output as _fslm_v1_DescribeRequest__Output } from '../../fslm/v1/DescribeRequest';
import type { DescribeResponse as _fslm_v1_DescribeResponse, DescribeResponse__Output as _fslm_v1_DescribeResponse__Output } from '../../fslm/v1/DescribeResponse';
import type { ScoreRequest as _fslm_v1_ScoreRequest, ScoreRequest__Output as _fslm_v1_ScoreRequest__Output } from '../../fslm/v1/ScoreRequest';
import type { ScoreResponse as _fslm_v1_ScoreResponse, ScoreResponse__Output as _fslm_v1_ScoreResponse__Output } from '../../fslm/v1/ScoreResponse';
import type { StageControl as _fslm_v1_StageControl, StageControl__Output as _fslm_v1_StageControl__Output } from '../../fslm/v1/StageControl';
import type { StageEvent as _fslm_v1_StageEvent, StageEvent__Output as _fslm_v1_StageEvent__Output } from '../../fslm/v1/StageEvent';
import type { StageRun as _fslm_v1_StageRun, StageRun__Output as _fslm_v1_StageRun__Output } from '../../fslm/v1/StageRun';

export interface StageBusClient extends grpc.Client {
  Control(argument: _fslm_v1_StageControl, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_StageEvent__Output>): grpc.ClientUnaryCall;
  Control(argument: _fslm_v1_StageControl, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_StageEvent__Output>): grpc.ClientUnaryCall;
  Control(argument: _fslm_v1_StageControl, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_StageEvent__Output>): grpc.ClientUnaryCall;
  Control(argument: _fslm_v1_StageControl, callback: grpc.requestCallback<_fslm_v1_StageEvent__Output>): grpc.ClientUnaryCall;
  control(argument: _fslm_v1_StageControl, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_StageEvent__Output>): grpc.ClientUnaryCall;
  control(argument: _fslm_v1_StageControl, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_StageEvent__Output>): grpc.ClientUnaryCall;
  control(argument: _fslm_v1_StageControl, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_StageEvent__Output>): grpc.ClientUnaryCall;
  control(argument: _fslm_v1_StageControl, callback: grpc.requestCallback<_fslm_v1_StageEvent__Output>): grpc.ClientUnaryCall;
  
  Describe(argument: _fslm_v1_DescribeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _fslm_v1_DescribeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _fslm_v1_DescribeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _fslm_v1_DescribeRequest, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _fslm_v1_DescribeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _fslm_v1_DescribeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _fslm_v1_DescribeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _fslm_v1_DescribeRequest, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  
  Run(argument: _fslm_v1_StageRun, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_fslm_v1_StageEvent__Output>;
  Run(argument: _fslm_v1_StageRun, options?: grpc.CallOptions): grpc.ClientReadableStream<_fslm_v1_StageEvent__Output>;
  run(argument: _fslm_v1_StageRun, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_fslm_v1_StageEvent__Output>;
  run(argument: _fslm_v1_StageRun, options?: grpc.CallOptions): grpc.ClientReadableStream<_fslm_v1_StageEvent__Output>;
  
  Score(argument: _fslm_v1_ScoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  Score(argument: _fslm_v1_ScoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  Score(argument: _fslm_v1_ScoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  Score(argument: _fslm_v1_ScoreRequest, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _fslm_v1_ScoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _fslm_v1_ScoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _fslm_v1_ScoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _fslm_v1_ScoreRequest, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface StageBusHandlers extends grpc.UntypedServiceImplementation {
  Control: grpc.handleUnaryCall<_fslm_v1_StageControl__Output, _fslm_v1_StageEvent>;
  
  Describe: grpc.handleUnaryCall<_fslm_v1_DescribeRequest__Output, _fslm_v1_DescribeResponse>;
  
  Run: grpc.handleServerStreamingCall<_fslm_v1_StageRun__Output, _fslm_v1_StageEvent>;
  
  Score: grpc.handleUnaryCall<_fslm_v1_ScoreRequest__Output, _fslm_v1_ScoreResponse>;
  
}

export interface StageBusDefinition extends grpc.ServiceDefinition {
  Control: MethodDefinition<_fslm_v1_StageControl, _fslm_v1_StageEvent, _fslm_v1_StageControl__Output, _fslm_v1_StageEvent__Output>
  Describe: MethodDefinition<_fslm_v1_DescribeRequest, _fslm_v1_DescribeResponse, _fslm_v1_DescribeRequest__Output, _fslm_v1_DescribeResponse__Output>
  Run: MethodDefinition<_fslm_v1_StageRun, _fslm_v1_StageEvent, _fslm_v1_StageRun__Output, _fslm_v1_StageEvent__Output>
  Score: MethodDefinition<_fslm_v1_ScoreRequest, _fslm_v1_ScoreResponse, _fslm_v1_ScoreRequest__Output, _fslm_v1_ScoreResponse__Output>
}

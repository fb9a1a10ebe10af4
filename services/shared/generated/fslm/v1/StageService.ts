// Original file: proto/fslm/v1/stage.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DescribeRequest as _fslm_v1_DescribeRequest, DescribeRequest__Output as _fslm_v1_DescribeRequest__Output } from '../../fslm/v1/DescribeRequest';
import type { DescribeResponse as _fslm_v1_DescribeResponse, DescribeResponse__Output as _fslm_v1_DescribeResponse__Output } from '../../fslm/v1/DescribeResponse';
import type { GenerateRequest as _fslm_v1_GenerateRequest, GenerateRequest__Output as _fslm_v1_GenerateRequest__Output } from '../../fslm/v1/GenerateRequest';
import type { GenerateResponse as _fslm_v1_GenerateResponse, GenerateResponse__Output as _fslm_v1_GenerateResponse__Output } from '../../fslm/v1/GenerateResponse';
import type { ScoreRequest as _fslm_v1_ScoreRequest, ScoreRequest__Output as _fslm_v1_ScoreRequest__Output } from '../../fslm/v1/ScoreRequest';
import type { ScoreResponse as _fslm_v1_ScoreResponse, ScoreResponse__Output as _fslm_v1_ScoreResponse__Output } from '../../fslm/v1/ScoreResponse';

export interface StageServiceClient extends grpc.Client {
  Describe(argument: _fslm_v1_DescribeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _fslm_v1_DescribeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _fslm_v1_DescribeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _fslm_v1_DescribeRequest, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _fslm_v1_DescribeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _fslm_v1_DescribeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _fslm_v1_DescribeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _fslm_v1_DescribeRequest, callback: grpc.requestCallback<_fslm_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  
  Generate(argument: _fslm_v1_GenerateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_fslm_v1_GenerateResponse__Output>;
  Generate(argument: _fslm_v1_GenerateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_fslm_v1_GenerateResponse__Output>;
  generate(argument: _fslm_v1_GenerateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_fslm_v1_GenerateResponse__Output>;
  generate(argument: _fslm_v1_GenerateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_fslm_v1_GenerateResponse__Output>;
  
  Score(argument: _fslm_v1_ScoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  Score(argument: _fslm_v1_ScoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  Score(argument: _fslm_v1_ScoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  Score(argument: _fslm_v1_ScoreRequest, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _fslm_v1_ScoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _fslm_v1_ScoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _fslm_v1_ScoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _fslm_v1_ScoreRequest, callback: grpc.requestCallback<_fslm_v1_ScoreResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface StageServiceHandlers extends grpc.UntypedServiceImplementation {
  Describe: grpc.handleUnaryCall<_fslm_v1_DescribeRequest__Output, _fslm_v1_DescribeResponse>;
  
  Generate: grpc.handleServerStreamingCall<_fslm_v1_GenerateRequest__Output, _fslm_v1_GenerateResponse>;
  
  Score: grpc.handleUnaryCall<_fslm_v1_ScoreRequest__Output, _fslm_v1_ScoreResponse>;
  
}

export interface StageServiceDefinition extends grpc.ServiceDefinition {
  Describe: MethodDefinition<_fslm_v1_DescribeRequest, _fslm_v1_DescribeResponse, _fslm_v1_DescribeRequest__Output, _fslm_v1_DescribeResponse__Output>
  Generate: MethodDefinition<_fslm_v1_GenerateRequest, _fslm_v1_GenerateResponse, _fslm_v1_GenerateRequest__Output, _fslm_v1_GenerateResponse__Output>
  Score: MethodDefinition<_fslm_v1_ScoreRequest, _fslm_v1_ScoreResponse, _fslm_v1_ScoreRequest__Output, _fslm_v1_ScoreResponse__Output>
}

// Original file: proto/fslm/v1/stage.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DescribeRequest as _fslm_v1_DescribeRequest, DescribeRequest__Output as _fslm_v1_DescribeRequest__Output } from '../../fslm/v1/DescribeRequest';
import type { DescribeResponse as _fslm_v1_DescribeResponse, DescribeResponse__Output as _fslm_v1_DescribeResponse__Output } from '../../fslm/v1/DescribeResponse';
import type { GenerateRequest as _fslm_v1_GenerateRequest, GenerateRequest__Output as _fslm_v1_GenerateRequest__Output } from '../../fslm/v1/GenerateRequest';
import type { GenerateResponse as _fslm_v1_GenerateResponse, GenerateResponse__Output as _fslm_v1_GenerateResponse__Output } from '../../fslm/v1/GenerateResponse';

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
  
}

export interface StageServiceHandlers extends grpc.UntypedServiceImplementation {
  Describe: grpc.handleUnaryCall<_fslm_v1_DescribeRequest__Output, _fslm_v1_DescribeResponse>;
  
  Generate: grpc.handleServerStreamingCall<_fslm_v1_GenerateRequest__Output, _fslm_v1_GenerateResponse>;
  
}

export interface StageServiceDefinition extends grpc.ServiceDefinition {
  Describe: MethodDefinition<_fslm_v1_DescribeRequest, _fslm_v1_DescribeResponse, _fslm_v1_DescribeRequest__Output, _fslm_v1_DescribeResponse__Output>
  Generate: MethodDefinition<_fslm_v1_GenerateRequest, _fslm_v1_GenerateResponse, _fslm_v1_GenerateRequest__Output, _fslm_v1_GenerateResponse__Output>
}

// Original file: proto/fslm/v1/stack.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DescribeStackRequest as _fslm_v1_DescribeStackRequest, DescribeStackRequest__Output as _fslm_v1_DescribeStackRequest__Output } from '../../fslm/v1/DescribeStackRequest';
import type { ListStacksRequest as _fslm_v1_ListStacksRequest, ListStacksRequest__Output as _fslm_v1_ListStacksRequest__Output } from '../../fslm/v1/ListStacksRequest';
import type { ListStacksResponse as _fslm_v1_ListStacksResponse, ListStacksResponse__Output as _fslm_v1_ListStacksResponse__Output } from '../../fslm/v1/ListStacksResponse';
import type { RunEvent as _fslm_v1_RunEvent, RunEvent__Output as _fslm_v1_RunEvent__Output } from '../../fslm/v1/RunEvent';
import type { RunRequest as _fslm_v1_RunRequest, RunRequest__Output as _fslm_v1_RunRequest__Output } from '../../fslm/v1/RunRequest';
import type { RunResponse as _fslm_v1_RunResponse, RunResponse__Output as _fslm_v1_RunResponse__Output } from '../../fslm/v1/RunResponse';
import type { StackDescription as _fslm_v1_StackDescription, StackDescription__Output as _fslm_v1_StackDescription__Output } from '../../fslm/v1/StackDescription';
import type { StackScoreRequest as _fslm_v1_StackScoreRequest, StackScoreRequest__Output as _fslm_v1_StackScoreRequest__Output } from '../../fslm/v1/StackScoreRequest';
import type { StackScoreResponse as _fslm_v1_StackScoreResponse, StackScoreResponse__Output as _fslm_v1_StackScoreResponse__Output } from '../../fslm/v1/StackScoreResponse';

export interface StackServiceClient extends grpc.Client {
  DescribeStack(argument: _fslm_v1_DescribeStackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_StackDescription__Output>): grpc.ClientUnaryCall;
  DescribeStack(argument: _fslm_v1_DescribeStackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_StackDescription__Output>): grpc.ClientUnaryCall;
  DescribeStack(argument: _fslm_v1_DescribeStackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_StackDescription__Output>): grpc.ClientUnaryCall;
  DescribeStack(argument: _fslm_v1_DescribeStackRequest, callback: grpc.requestCallback<_fslm_v1_StackDescription__Output>): grpc.ClientUnaryCall;
  describeStack(argument: _fslm_v1_DescribeStackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_StackDescription__Output>): grpc.ClientUnaryCall;
  describeStack(argument: _fslm_v1_DescribeStackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_StackDescription__Output>): grpc.ClientUnaryCall;
  describeStack(argument: _fslm_v1_DescribeStackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_StackDescription__Output>): grpc.ClientUnaryCall;
  describeStack(argument: _fslm_v1_DescribeStackRequest, callback: grpc.requestCallback<_fslm_v1_StackDescription__Output>): grpc.ClientUnaryCall;
  
  ListStacks(argument: _fslm_v1_ListStacksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_ListStacksResponse__Output>): grpc.ClientUnaryCall;
  ListStacks(argument: _fslm_v1_ListStacksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_ListStacksResponse__Output>): grpc.ClientUnaryCall;
  ListStacks(argument: _fslm_v1_ListStacksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_ListStacksResponse__Output>): grpc.ClientUnaryCall;
  ListStacks(argument: _fslm_v1_ListStacksRequest, callback: grpc.requestCallback<_fslm_v1_ListStacksResponse__Output>): grpc.ClientUnaryCall;
  listStacks(argument: _fslm_v1_ListStacksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_ListStacksResponse__Output>): grpc.ClientUnaryCall;
  listStacks(argument: _fslm_v1_ListStacksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_ListStacksResponse__Output>): grpc.ClientUnaryCall;
  listStacks(argument: _fslm_v1_ListStacksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_ListStacksResponse__Output>): grpc.ClientUnaryCall;
  listStacks(argument: _fslm_v1_ListStacksRequest, callback: grpc.requestCallback<_fslm_v1_ListStacksResponse__Output>): grpc.ClientUnaryCall;
  
  Run(argument: _fslm_v1_RunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _fslm_v1_RunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _fslm_v1_RunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _fslm_v1_RunRequest, callback: grpc.requestCallback<_fslm_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _fslm_v1_RunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _fslm_v1_RunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _fslm_v1_RunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _fslm_v1_RunRequest, callback: grpc.requestCallback<_fslm_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  
  RunStream(argument: _fslm_v1_RunRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_fslm_v1_RunEvent__Output>;
  RunStream(argument: _fslm_v1_RunRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_fslm_v1_RunEvent__Output>;
  runStream(argument: _fslm_v1_RunRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_fslm_v1_RunEvent__Output>;
  runStream(argument: _fslm_v1_RunRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_fslm_v1_RunEvent__Output>;
  
  Score(argument: _fslm_v1_StackScoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_StackScoreResponse__Output>): grpc.ClientUnaryCall;
  Score(argument: _fslm_v1_StackScoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_StackScoreResponse__Output>): grpc.ClientUnaryCall;
  Score(argument: _fslm_v1_StackScoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_StackScoreResponse__Output>): grpc.ClientUnaryCall;
  Score(argument: _fslm_v1_StackScoreRequest, callback: grpc.requestCallback<_fslm_v1_StackScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _fslm_v1_StackScoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_StackScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _fslm_v1_StackScoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fslm_v1_StackScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _fslm_v1_StackScoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fslm_v1_StackScoreResponse__Output>): grpc.ClientUnaryCall;
  score(argument: _fslm_v1_StackScoreRequest, callback: grpc.requestCallback<_fslm_v1_StackScoreResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface StackServiceHandlers extends grpc.UntypedServiceImplementation {
  DescribeStack: grpc.handleUnaryCall<_fslm_v1_DescribeStackRequest__Output, _fslm_v1_StackDescription>;
  
  ListStacks: grpc.handleUnaryCall<_fslm_v1_ListStacksRequest__Output, _fslm_v1_ListStacksResponse>;
  
  Run: grpc.handleUnaryCall<_fslm_v1_RunRequest__Output, _fslm_v1_RunResponse>;
  
  RunStream: grpc.handleServerStreamingCall<_fslm_v1_RunRequest__Output, _fslm_v1_RunEvent>;
  
  Score: grpc.handleUnaryCall<_fslm_v1_StackScoreRequest__Output, _fslm_v1_StackScoreResponse>;
  
}

export interface StackServiceDefinition extends grpc.ServiceDefinition {
  DescribeStack: MethodDefinition<_fslm_v1_DescribeStackRequest, _fslm_v1_StackDescription, _fslm_v1_DescribeStackRequest__Output, _fslm_v1_StackDescription__Output>
  ListStacks: MethodDefinition<_fslm_v1_ListStacksRequest, _fslm_v1_ListStacksResponse, _fslm_v1_ListStacksRequest__Output, _fslm_v1_ListStacksResponse__Output>
  Run: MethodDefinition<_fslm_v1_RunRequest, _fslm_v1_RunResponse, _fslm_v1_RunRequest__Output, _fslm_v1_RunResponse__Output>
  RunStream: MethodDefinition<_fslm_v1_RunRequest, _fslm_v1_RunEvent, _fslm_v1_RunRequest__Output, _fslm_v1_RunEvent__Output>
  Score: MethodDefinition<_fslm_v1_StackScoreRequest, _fslm_v1_StackScoreResponse, _fslm_v1_StackScoreRequest__Output, _fslm_v1_StackScoreResponse__Output>
}

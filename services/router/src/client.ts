// A typed gRPC client of the router's StackService (for `fslm ask`, tests and benchmarks).
import * as grpc from '@grpc/grpc-js';
import type { StackServiceClient } from '../../shared/generated/fslm/v1/StackService.ts';
import type { ProtoGrpcType } from '../../shared/generated/stack.ts';
import { loadGrpcObject } from '../../shared/proto.ts';

export function stackServiceClient(address: string): StackServiceClient {
  const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stack.proto']);
  return new proto.fslm.v1.StackService(address, grpc.credentials.createInsecure());
}

// A typed gRPC client of the router's StackService (for `fslm ask`, tests and benchmarks).
import * as grpc from '@grpc/grpc-js';
import type { StackServiceClient } from '../../shared/generated/fslm/v1/StackService.ts';
import type { ProtoGrpcType } from '../../shared/generated/stack.ts';
import { grpcChannelCredentials, type GrpcClientTls } from '../../shared/grpc-tls.ts';
import { loadGrpcObject } from '../../shared/proto.ts';

/** A client of StackService at `address`; plaintext, or TLS (with a client certificate for mTLS) when `tls` is given. */
export function stackServiceClient(address: string, tls?: GrpcClientTls): StackServiceClient {
  const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stack.proto']);
  return new proto.fslm.v1.StackService(address, grpcChannelCredentials(tls));
}

// Promise and event-list wrappers around the router's gRPC client for tests.
import * as grpc from '@grpc/grpc-js';
import type { RunEvent__Output } from '../../../services/shared/generated/fslm/v1/RunEvent.ts';
import type { RunRequest } from '../../../services/shared/generated/fslm/v1/RunRequest.ts';
import type { RunResponse__Output } from '../../../services/shared/generated/fslm/v1/RunResponse.ts';
import type { StackServiceClient } from '../../../services/shared/generated/fslm/v1/StackService.ts';

export function run(client: StackServiceClient, request: RunRequest, options: grpc.CallOptions = {}): Promise<RunResponse__Output> {
  return new Promise((resolve, reject) => client.Run(request, options, (error, response) => (error ? reject(error) : resolve(response!))));
}

export interface StreamOutcome {
  events: RunEvent__Output[];
  error: grpc.ServiceError | null;
}

/** Collects a RunStream's events; onEvent may cancel the call. */
export function runStream(
  client: StackServiceClient, request: RunRequest, onEvent?: (event: RunEvent__Output, call: grpc.ClientReadableStream<RunEvent__Output>) => void,
  options: grpc.CallOptions = {},
): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const events: RunEvent__Output[] = [];
    const call = client.RunStream(request, options);
    call.on('data', (event: RunEvent__Output) => {
      events.push(event);
      onEvent?.(event, call);
    });
    call.on('error', (error: grpc.ServiceError) => resolve({ events, error }));
    call.on('end', () => resolve({ events, error: null }));
  });
}

export function grpcCode(error: unknown): string {
  const code = (error as grpc.ServiceError | null)?.code;
  return typeof code === 'number' ? grpc.status[code] : String(code);
}

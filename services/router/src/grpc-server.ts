// The router's gRPC door: StackService (Run, RunStream, Score, ListStacks, DescribeStack), plus
// grpc.health.v1 and server reflection.
import * as grpc from '@grpc/grpc-js';
import { errors, toFslmError } from '../../shared/errors.ts';
import type { DescribeStackRequest__Output } from '../../shared/generated/fslm/v1/DescribeStackRequest.ts';
import type { ListStacksResponse } from '../../shared/generated/fslm/v1/ListStacksResponse.ts';
import type { RunEvent } from '../../shared/generated/fslm/v1/RunEvent.ts';
import type { RunRequest__Output } from '../../shared/generated/fslm/v1/RunRequest.ts';
import type { RunResponse } from '../../shared/generated/fslm/v1/RunResponse.ts';
import type { StackDescription } from '../../shared/generated/fslm/v1/StackDescription.ts';
import type { StackScoreRequest__Output } from '../../shared/generated/fslm/v1/StackScoreRequest.ts';
import type { StackScoreResponse } from '../../shared/generated/fslm/v1/StackScoreResponse.ts';
import type { ProtoGrpcType } from '../../shared/generated/stack.ts';
import { toGrpcStatus } from '../../shared/grpc-status.ts';
import { serveWithHealth, type ServingServer } from '../../shared/grpc-serve.ts';
import { invalidUtf8Error, strictUtf8Service } from '../../shared/grpc-utf8.ts';
import { loadDefinition } from '../../shared/proto.ts';
import { GRPC_FIELDS, grpcParams, toScoreAsk, toStackRunRequest } from './run-request.ts';
import { failedStageOf, type StackRunner } from './stack-runner.ts';
import type { StackDefinition } from './types.ts';
import { toRunResponse, toStackDescription, toStackScoreResponse, toStageOutput } from './wire.ts';

export const STACK_SERVICE_NAME = 'fslm.v1.StackService';
const PROTO_FILES = ['fslm/v1/stack.proto'];

export type RouterGrpcServer = ServingServer;

/** The fields a run and a score share (RunRequest, StackScoreRequest). */
type StackAsk = Pick<RunRequest__Output, 'stack' | 'input' | 'request_id' | 'params' | 'disable_handoff'>;
type AnyCall = grpc.ServerUnaryCall<StackAsk, unknown> | grpc.ServerWritableStream<StackAsk, unknown>;

/** Cancels the run when the client goes away; gives the call's deadline and trace context. */
function callContext(call: AnyCall) {
  const abort = new AbortController();
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  // grpc-js reports a passed deadline as a cancel too.
  call.on('cancelled', () => abort.abort(Date.now() >= deadlineMs ? errors.deadlineExceeded() : errors.cancelled()));
  const trace: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const value = call.metadata.get(key)[0];
    if (typeof value === 'string') trace[key] = value;
  }
  return { abort, deadlineMs: Number.isFinite(deadlineMs) && deadlineMs > 0 ? deadlineMs : Infinity, trace };
}

/** Starts StackService on `address` (port 0 picks one); `credentials` are plaintext unless given (TLS: grpc-tls.ts). */
export async function startRouterGrpcServer(
  runner: StackRunner, stacks: ReadonlyMap<string, StackDefinition>, address: string, handoff: boolean, credentials?: grpc.ServerCredentials,
): Promise<RouterGrpcServer> {
  const definition = loadDefinition(PROTO_FILES);
  const proto = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  const server = new grpc.Server();
  const ask = (call: AnyCall) => {
    const notUtf8 = invalidUtf8Error(call.request);
    if (notUtf8) runner.refused(call.request.stack, notUtf8);
    const { abort, deadlineMs, trace } = callContext(call);
    return runner.prepare(call.request.stack, (stack) => toStackRunRequest(stack, {
      input: call.request.input, requestId: call.request.request_id, params: grpcParams(call.request), fields: GRPC_FIELDS,
      disableHandoff: call.request.disable_handoff, deadlineMs, signal: abort.signal, trace,
    }, handoff));
  };
  server.addService(strictUtf8Service(proto.fslm.v1.StackService.service, definition), {
    Run: async (call: grpc.ServerUnaryCall<RunRequest__Output, RunResponse>, callback: grpc.sendUnaryData<RunResponse>) => {
      try {
        const { stack, request } = ask(call);
        const outcome = await runner.run(stack, request);
        callback(null, toRunResponse(outcome));
      } catch (error) {
        if (!call.cancelled) callback(toGrpcStatus(error) as grpc.ServiceError);
      }
    },
    RunStream: async (call: grpc.ServerWritableStream<RunRequest__Output, RunEvent>) => {
      try {
        const { stack, request } = ask(call);
        const outcome = await runner.run(stack, request, {
          stageStarted: (e) => call.write({ stage_started: { stage: e.stage, index: e.index, attempt: e.attempt, replica: e.replica, model: e.model, model_version: e.modelVersion, adapter_version: e.adapterVersion } }),
          stageDelta: (e) => call.write({ stage_delta: { stage: e.stage, index: e.index, attempt: e.attempt, delta: e.delta } }),
          stageFinished: (outcome) => call.write({ stage_finished: { output: toStageOutput(outcome) } }),
        });
        call.write({ final: toRunResponse(outcome) });
        call.end();
      } catch (error) {
        if (call.cancelled) return;
        const e = toFslmError(error);
        call.write({ error: { code: e.code, message: e.message, stage: failedStageOf(e) } });
        call.emit('error', { ...toGrpcStatus(e), metadata: new grpc.Metadata() });
      }
    },
    Score: async (call: grpc.ServerUnaryCall<StackScoreRequest__Output, StackScoreResponse>, callback: grpc.sendUnaryData<StackScoreResponse>) => {
      try {
        const score = toScoreAsk(call.request);
        const { stack, request } = ask(call);
        callback(null, toStackScoreResponse(await runner.score(stack, request, score)));
      } catch (error) {
        if (!call.cancelled) callback(toGrpcStatus(error) as grpc.ServiceError);
      }
    },
    ListStacks: (_call: grpc.ServerUnaryCall<unknown, ListStacksResponse>, callback: grpc.sendUnaryData<ListStacksResponse>) => {
      callback(null, { stacks: [...stacks.values()].map(toStackDescription) });
    },
    DescribeStack: (call: grpc.ServerUnaryCall<DescribeStackRequest__Output, StackDescription>, callback: grpc.sendUnaryData<StackDescription>) => {
      try {
        callback(null, toStackDescription(runner.resolve(call.request.stack)));
      } catch (error) {
        callback(toGrpcStatus(error) as grpc.ServiceError);
      }
    },
  });
  return serveWithHealth(server, definition, STACK_SERVICE_NAME, address, credentials);
}

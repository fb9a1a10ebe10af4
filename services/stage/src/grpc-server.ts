// The gRPC door of a stage: StageService over the engine, plus grpc.health.v1 and server reflection.
import * as grpc from '@grpc/grpc-js';
import { errors, toFslmError } from '../../shared/errors.ts';
import type { DescribeResponse } from '../../shared/generated/fslm/v1/DescribeResponse.ts';
import type { GenerateRequest__Output } from '../../shared/generated/fslm/v1/GenerateRequest.ts';
import type { GenerateResponse } from '../../shared/generated/fslm/v1/GenerateResponse.ts';
import type { ScoreRequest__Output } from '../../shared/generated/fslm/v1/ScoreRequest.ts';
import type { ScoreResponse } from '../../shared/generated/fslm/v1/ScoreResponse.ts';
import type { ProtoGrpcType } from '../../shared/generated/stage.ts';
import { serveWithHealth, type ServingServer } from '../../shared/grpc-serve.ts';
import { invalidUtf8Error, strictUtf8Service } from '../../shared/grpc-utf8.ts';
import { timerAt } from '../../shared/long-timer.ts';
import { loadDefinition } from '../../shared/proto.ts';
import type { Artifact } from './artifact.ts';
import { describeModel } from './describe.ts';
import { toGrpcStatus } from '../../shared/grpc-status.ts';
import { toGenerateInput, toScoreInput } from './request-validation.ts';
import { toWireDelta, toWireResult, toWireScore } from './wire.ts';
import type { GenerateResult, InferenceEngine } from './types.ts';
import type { StageMetrics } from './stage-metrics.ts';

export const STAGE_SERVICE_NAME = 'fslm.v1.StageService';
const PROTO_FILES = ['fslm/v1/stage.proto'];

export type StageServer = ServingServer;

/** An abort signal for a call: aborted when the client cancels or the call's deadline passes; `end` stops watching. */
function callSignal(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): { signal: AbortSignal; end(): void } {
  const abort = new AbortController();
  const onCancelled = () => abort.abort(errors.cancelled());
  call.on('cancelled', onCancelled);
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  // A far deadline (beyond a Node timer's 24.8 days) is honoured too.
  const timer = Number.isFinite(deadlineMs) ? timerAt(deadlineMs, () => abort.abort(errors.deadlineExceeded())) : null;
  return {
    signal: abort.signal,
    end: () => {
      timer?.clear();
      call.off('cancelled', onCancelled);
    },
  };
}

function generateHandler(engine: InferenceEngine, modelVersion: string, metrics: StageMetrics | undefined) {
  return async (call: grpc.ServerWritableStream<GenerateRequest__Output, GenerateResponse>): Promise<void> => {
    metrics?.started('grpc');
    let result: GenerateResult | null = null;
    let errorCode: string | null = null;
    const watch = callSignal(call);
    try {
      const notUtf8 = invalidUtf8Error(call.request);
      if (notUtf8) throw notUtf8;
      const input = toGenerateInput(call.request, engine.limits, engine.hasChatTemplate);
      result = await engine.generate(input, { signal: watch.signal, onDelta: (delta) => call.write({ delta: toWireDelta(delta) }) });
      if (call.cancelled) return;
      if (result.finishReason === 'deadline') throw errors.deadlineExceeded(`deadline exceeded after ${result.completionTokens} tokens`);
      call.write({ result: toWireResult(result, modelVersion) });
      call.end();
    } catch (error) {
      errorCode = toFslmError(error).code;
      if (!call.cancelled) call.emit('error', toGrpcStatus(error));
    } finally {
      watch.end();
      metrics?.finished('grpc', result, call.cancelled && !errorCode ? 'CANCELLED' : errorCode);
    }
  };
}

function scoreHandler(engine: InferenceEngine, modelVersion: string, metrics: StageMetrics | undefined) {
  return async (call: grpc.ServerUnaryCall<ScoreRequest__Output, ScoreResponse>, callback: grpc.sendUnaryData<ScoreResponse>): Promise<void> => {
    metrics?.started('grpc');
    let errorCode: string | null = null;
    const watch = callSignal(call);
    try {
      const notUtf8 = invalidUtf8Error(call.request);
      if (notUtf8) throw notUtf8;
      const result = await engine.score(toScoreInput(call.request, engine.hasChatTemplate), { signal: watch.signal });
      callback(null, toWireScore(result, modelVersion));
    } catch (error) {
      errorCode = toFslmError(error).code;
      callback(toGrpcStatus(error));
    } finally {
      watch.end();
      metrics?.finished('grpc', null, errorCode);
    }
  };
}

/**
 * Starts the server; `address` like 127.0.0.1:0 picks a free port; `credentials` are plaintext unless given
 * (TLS: grpc-tls.ts). Its health ('' and StageService) starts NOT_SERVING: the caller reports SERVING once
 * the stage can take work on every door it serves (stage-health.ts).
 */
export async function startStageServer(
  engine: InferenceEngine, artifact: Artifact, address: string, metrics?: StageMetrics, credentials?: grpc.ServerCredentials,
): Promise<StageServer> {
  const definition = loadDefinition(PROTO_FILES);
  const proto = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 << 20 });
  const description = describeModel(engine);
  server.addService(strictUtf8Service(proto.fslm.v1.StageService.service, definition), {
    Generate: generateHandler(engine, artifact.version, metrics),
    Score: scoreHandler(engine, artifact.version, metrics),
    Describe: (_call: grpc.ServerUnaryCall<unknown, DescribeResponse>, callback: grpc.sendUnaryData<DescribeResponse>) => callback(null, description),
  });
  return serveWithHealth(server, definition, STAGE_SERVICE_NAME, address, credentials, { initialStatus: 'NOT_SERVING' });
}

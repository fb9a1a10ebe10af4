// The NATS data plane's names and codecs: subjects, header names and the protobuf messages of
// proto/fslm/v1/bus.proto, shared by the router and the stage worker.
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import type { DescribeRequest, DescribeRequest__Output } from './generated/fslm/v1/DescribeRequest.ts';
import type { DescribeResponse, DescribeResponse__Output } from './generated/fslm/v1/DescribeResponse.ts';
import type { ScoreRequest, ScoreRequest__Output } from './generated/fslm/v1/ScoreRequest.ts';
import type { ScoreResponse, ScoreResponse__Output } from './generated/fslm/v1/ScoreResponse.ts';
import type { StageControl, StageControl__Output } from './generated/fslm/v1/StageControl.ts';
import type { StageEvent, StageEvent__Output } from './generated/fslm/v1/StageEvent.ts';
import type { StageRun, StageRun__Output } from './generated/fslm/v1/StageRun.ts';
import { loadDefinition } from './proto.ts';
import type { MethodDefinition } from '@grpc/proto-loader';

export const BusHeader = {
  TraceParent: 'traceparent',
  TraceState: 'tracestate',
  /** The client's request id (the same on every hop of one request). */
  RequestId: 'Fslm-Request-Id',
  /** Absolute deadline, Unix epoch milliseconds. */
  Deadline: 'Fslm-Deadline',
  ErrorCode: 'Fslm-Error-Code',
  Error: 'Fslm-Error',
  /** The request field an error is about (e.g. `prompt`), when it is about one. */
  ErrorField: 'Fslm-Error-Field',
} as const;

/**
 * Subjects of one stage. A stage's prefix is fslm.<stack>.<stage> unless its stack definition names
 * another; the queue group is the prefix itself.
 */
export const subjects = {
  prefix: (stack: string, stage: string) => `fslm.${stack}.${stage}`,
  run: (prefix: string) => `${prefix}.run`,
  cancel: (prefix: string) => `${prefix}.cancel`,
  replica: (prefix: string, replica: string) => `${prefix}.replica.${replica}`,
  /** DescribeRequest in, DescribeResponse out (one replica of the queue group answers). */
  describe: (prefix: string) => `${prefix}.describe`,
  /** ScoreRequest in, ScoreResponse out (one replica of the queue group answers). */
  score: (prefix: string) => `${prefix}.score`,
};

/** A subject prefix: dot-separated tokens without wildcards or whitespace. */
export const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Stack and stage names: lowercase DNS labels, usable as Kubernetes names and as NATS subject tokens. */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** How often a stage replica reports that it is alive while it holds a request, unless the run asks otherwise. */
export const DEFAULT_HEARTBEAT_MS = 250;

type Methods = {
  Run: MethodDefinition<StageRun, StageEvent, StageRun__Output, StageEvent__Output>;
  Control: MethodDefinition<StageControl, StageEvent, StageControl__Output, StageEvent__Output>;
  Describe: MethodDefinition<DescribeRequest, DescribeResponse, DescribeRequest__Output, DescribeResponse__Output>;
  Score: MethodDefinition<ScoreRequest, ScoreResponse, ScoreRequest__Output, ScoreResponse__Output>;
};

let methods: Methods | null = null;
function bus(): Methods {
  methods ??= loadDefinition(['fslm/v1/bus.proto'])['fslm.v1.StageBus'] as unknown as Methods;
  return methods;
}

/** Protobuf encoders and decoders; decoders throw on malformed bytes. */
export const busCodec = {
  encodeRun: (message: StageRun): Uint8Array => bus().Run.requestSerialize(message),
  decodeRun: (data: Uint8Array): StageRun__Output => bus().Run.requestDeserialize(Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
  encodeControl: (message: StageControl): Uint8Array => bus().Control.requestSerialize(message),
  decodeControl: (data: Uint8Array): StageControl__Output => bus().Control.requestDeserialize(Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
  encodeEvent: (message: StageEvent): Uint8Array => bus().Run.responseSerialize(message),
  decodeEvent: (data: Uint8Array): StageEvent__Output => bus().Run.responseDeserialize(Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
  encodeDescribe: (message: DescribeResponse): Uint8Array => bus().Describe.responseSerialize(message),
  decodeDescribe: (data: Uint8Array): DescribeResponse__Output => bus().Describe.responseDeserialize(Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
  encodeScoreRequest: (message: ScoreRequest): Uint8Array => bus().Score.requestSerialize(message),
  decodeScoreRequest: (data: Uint8Array): ScoreRequest__Output => bus().Score.requestDeserialize(Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
  encodeScoreResponse: (message: ScoreResponse): Uint8Array => bus().Score.responseSerialize(message),
  decodeScoreResponse: (data: Uint8Array): ScoreResponse__Output => bus().Score.responseDeserialize(Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
};

/** Headers of a request hop: request id, absolute deadline and whatever trace context the carrier holds. */
export function requestHeaders(requestId: string, deadlineMs: number, traceCarrier: Record<string, string> = {}): MsgHdrs {
  const h = natsHeaders();
  h.set(BusHeader.RequestId, requestId);
  if (Number.isFinite(deadlineMs)) h.set(BusHeader.Deadline, String(Math.round(deadlineMs)));
  for (const [key, value] of Object.entries(traceCarrier)) h.set(key, value);
  return h;
}

/** The absolute deadline a message carries (Infinity when none or unreadable). */
export function deadlineOf(h: MsgHdrs | undefined): number {
  const raw = h?.get(BusHeader.Deadline);
  const value = raw ? Number(raw) : NaN;
  return Number.isFinite(value) && value > 0 ? value : Infinity;
}

/** The trace context headers as a plain carrier for the OpenTelemetry propagator. */
export function traceCarrierOf(h: MsgHdrs | undefined): Record<string, string> {
  const carrier: Record<string, string> = {};
  for (const key of [BusHeader.TraceParent, BusHeader.TraceState]) {
    const value = h?.get(key);
    if (value) carrier[key] = value;
  }
  return carrier;
}

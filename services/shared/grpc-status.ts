// The one place where fslm errors become gRPC statuses (used by the stage's and the router's doors).
import { status, type StatusObject } from '@grpc/grpc-js';
import { ErrorCode, toFslmError } from './errors.ts';

const CODES: Record<ErrorCode, status> = {
  [ErrorCode.InvalidArgument]: status.INVALID_ARGUMENT,
  [ErrorCode.NotFound]: status.NOT_FOUND,
  [ErrorCode.FailedPrecondition]: status.FAILED_PRECONDITION,
  [ErrorCode.ResourceExhausted]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.DeadlineExceeded]: status.DEADLINE_EXCEEDED,
  [ErrorCode.Cancelled]: status.CANCELLED,
  [ErrorCode.Unavailable]: status.UNAVAILABLE,
  [ErrorCode.Internal]: status.INTERNAL,
};

export function toGrpcStatus(error: unknown): Partial<StatusObject> {
  const e = toFslmError(error);
  return { code: CODES[e.code], details: e.message };
}

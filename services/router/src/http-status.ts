// The one place where fslm errors become HTTP statuses and OpenAI-style error bodies.
import { ErrorCode, toFslmError } from '../../shared/errors.ts';

const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.InvalidArgument]: 400,
  [ErrorCode.FailedPrecondition]: 400,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.ResourceExhausted]: 429,
  [ErrorCode.Cancelled]: 499,
  [ErrorCode.Internal]: 500,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.DeadlineExceeded]: 504,
};

const TYPE: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.InvalidArgument]: 'invalid_request_error',
  [ErrorCode.FailedPrecondition]: 'invalid_request_error',
  [ErrorCode.NotFound]: 'invalid_request_error',
  [ErrorCode.ResourceExhausted]: 'rate_limit_error',
};

export interface HttpError {
  status: number;
  body: { error: { message: string; type: string; param: string | null; code: string } };
}

export function toHttpError(error: unknown): HttpError {
  const e = toFslmError(error);
  return {
    status: STATUS[e.code],
    body: { error: { message: e.message, type: TYPE[e.code] ?? 'server_error', param: e.field ?? null, code: e.code } },
  };
}

// The one place where fslm errors become HTTP statuses and OpenAI error bodies: `error.code` holds
// OpenAI's code (e.g. model_not_found, integer_above_max_value) or null where OpenAI has none, and the
// fslm error code travels beside it in `fslm.code`.
import { ErrorCode, toFslmError } from '../../shared/errors.ts';
import { BodyError } from './http-body.ts';
import { OpenAICode, RequestError } from './request-errors.ts';

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

/** OpenAI's code for errors that carry none of their own. */
const CODE: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.InvalidArgument]: OpenAICode.InvalidValue,
  [ErrorCode.ResourceExhausted]: OpenAICode.RateLimitExceeded,
};

export interface HttpErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
  fslm: { code: ErrorCode; stage?: string };
}

export interface HttpError {
  status: number;
  body: HttpErrorBody;
}

/** An error as an HTTP status and OpenAI error body; `stage` names the stage that failed, if one did. */
export function toHttpError(error: unknown, stage = ''): HttpError {
  const e = toFslmError(error);
  const code = e instanceof RequestError ? e.openaiCode : CODE[e.code] ?? null;
  return {
    status: e instanceof BodyError ? e.httpStatus : STATUS[e.code],
    body: {
      error: { message: e.message, type: TYPE[e.code] ?? 'server_error', param: e.field ?? null, code },
      fslm: stage ? { code: e.code, stage } : { code: e.code },
    },
  };
}

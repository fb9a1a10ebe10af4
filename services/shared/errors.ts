// Domain errors shared by every fslm service. Each protocol maps these to its wire form in one place
// (gRPC: grpc-status.ts; NATS: bus-errors.ts; HTTP: the router's http-status.ts), so a code means the same thing everywhere.

export const ErrorCode = {
  InvalidArgument: 'INVALID_ARGUMENT',
  NotFound: 'NOT_FOUND',
  FailedPrecondition: 'FAILED_PRECONDITION',
  ResourceExhausted: 'RESOURCE_EXHAUSTED',
  DeadlineExceeded: 'DEADLINE_EXCEEDED',
  Cancelled: 'CANCELLED',
  Unavailable: 'UNAVAILABLE',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class FslmError extends Error {
  readonly code: ErrorCode;
  /** Path of the offending field, when the error is about one input field. */
  readonly field?: string;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FslmError';
    this.code = code;
    this.field = options?.field;
  }
}

export const errors = {
  invalidArgument: (message: string, field?: string) => new FslmError(ErrorCode.InvalidArgument, message, { field }),
  notFound: (message: string) => new FslmError(ErrorCode.NotFound, message),
  failedPrecondition: (message: string, cause?: unknown) => new FslmError(ErrorCode.FailedPrecondition, message, { cause }),
  resourceExhausted: (message: string) => new FslmError(ErrorCode.ResourceExhausted, message),
  deadlineExceeded: (message = 'deadline exceeded') => new FslmError(ErrorCode.DeadlineExceeded, message),
  cancelled: (message = 'cancelled by the client') => new FslmError(ErrorCode.Cancelled, message),
  unavailable: (message: string, cause?: unknown) => new FslmError(ErrorCode.Unavailable, message, { cause }),
  internal: (message: string, cause?: unknown) => new FslmError(ErrorCode.Internal, message, { cause }),
};

/** The one place that turns an unknown thrown value into a message. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/** Any thrown value as an FslmError; values without a code become INTERNAL. */
export function toFslmError(error: unknown): FslmError {
  if (error instanceof FslmError) return error;
  return new FslmError(ErrorCode.Internal, errorMessage(error), { cause: error });
}

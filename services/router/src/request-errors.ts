// Refusals of a request's fields, shared by both doors: an INVALID_ARGUMENT (or NOT_FOUND) FslmError
// that names its field and carries the OpenAI error code that the HTTP door puts in `error.code`.
import { ErrorCode, FslmError } from '../../shared/errors.ts';

/** OpenAI's `error.code` values the router uses (as the OpenAI API sends them). */
export const OpenAICode = {
  InvalidType: 'invalid_type',
  InvalidValue: 'invalid_value',
  BelowMin: 'integer_below_min_value',
  AboveMax: 'integer_above_max_value',
  DecimalBelowMin: 'decimal_below_min_value',
  DecimalAboveMax: 'decimal_above_max_value',
  UnsupportedParameter: 'unsupported_parameter',
  UnsupportedValue: 'unsupported_value',
  UnknownParameter: 'unknown_parameter',
  MissingParameter: 'missing_required_parameter',
  ContextLengthExceeded: 'context_length_exceeded',
  ModelNotFound: 'model_not_found',
  RateLimitExceeded: 'rate_limit_exceeded',
} as const;
export type OpenAICode = (typeof OpenAICode)[keyof typeof OpenAICode];

/** A refused request field: `field` is its path as the client wrote it, `openaiCode` goes to HTTP clients. */
export class RequestError extends FslmError {
  constructor(code: ErrorCode, message: string, field: string | undefined, readonly openaiCode: OpenAICode) {
    super(code, message, { field });
    this.name = 'RequestError';
  }
}

/** What a JSON value is, in the words of an error message. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const invalid = (field: string, message: string, code: OpenAICode) => new RequestError(ErrorCode.InvalidArgument, message, field, code);

export const requestErrors = {
  /** The body as a whole (not JSON, too large, not an object): no field to name. */
  invalidBody: (message: string) => new RequestError(ErrorCode.InvalidArgument, message, undefined, OpenAICode.InvalidValue),
  invalidType: (field: string, expected: string, value: unknown) =>
    invalid(field, `invalid type for '${field}': expected ${expected}, got ${typeName(value)}`, OpenAICode.InvalidType),
  invalidValue: (field: string, message: string) => invalid(field, `invalid '${field}': ${message}`, OpenAICode.InvalidValue),
  /** A number outside [min, max]; `integer` picks OpenAI's integer or decimal code. */
  outOfRange: (field: string, value: number, rule: string, below: boolean, integer: boolean) =>
    invalid(field, `invalid '${field}': ${String(value)} is out of range; expected ${rule}`,
      integer ? (below ? OpenAICode.BelowMin : OpenAICode.AboveMax) : (below ? OpenAICode.DecimalBelowMin : OpenAICode.DecimalAboveMax)),
  missing: (field: string, message: string) => invalid(field, `missing required parameter '${field}': ${message}`, OpenAICode.MissingParameter),
  unsupportedParameter: (field: string, why: string) => invalid(field, `unsupported parameter '${field}': ${why}`, OpenAICode.UnsupportedParameter),
  unsupportedValue: (field: string, why: string) => invalid(field, `unsupported value for '${field}': ${why}`, OpenAICode.UnsupportedValue),
  unknownParameter: (field: string, known: readonly string[]) =>
    invalid(field, `unrecognized request argument '${field}' (known: ${known.join(', ')})`, OpenAICode.UnknownParameter),
  contextLength: (field: string, message: string) => invalid(field, message, OpenAICode.ContextLengthExceeded),
  modelNotFound: (field: string, message: string) => new RequestError(ErrorCode.NotFound, message, field, OpenAICode.ModelNotFound),
};

// The one place where fslm errors become NATS replies and back (after nats.js ServiceError: an empty
// payload with a code header and a message header, and the field the error is about when it names one).
import { headers as natsHeaders, type Msg, type MsgHdrs } from 'nats';
import { BusHeader } from './bus-codec.ts';
import { ErrorCode, FslmError, toFslmError } from './errors.ts';

const CODES = new Set<string>(Object.values(ErrorCode));

export function errorHeaders(error: unknown, requestId?: string): MsgHdrs {
  const e = toFslmError(error);
  const h = natsHeaders();
  h.set(BusHeader.ErrorCode, e.code);
  // Header values are one line.
  h.set(BusHeader.Error, e.message.replace(/[\r\n]+/g, ' ').slice(0, 1024));
  if (e.field) h.set(BusHeader.ErrorField, e.field.replace(/[\r\n]+/g, ' ').slice(0, 256));
  if (requestId) h.set(BusHeader.RequestId, requestId);
  return h;
}

/** The error a reply carries, or null for a normal reply. NATS "no responders" becomes UNAVAILABLE. */
export function errorOfReply(msg: Pick<Msg, 'data' | 'headers'>): FslmError | null {
  const h = msg.headers;
  if (!h) return null;
  if (msg.data.length === 0 && h.code === 503) return new FslmError(ErrorCode.Unavailable, 'no stage replica is listening (NATS no responders)');
  const code = h.get(BusHeader.ErrorCode);
  if (!code) return null;
  const known = CODES.has(code) ? (code as ErrorCode) : ErrorCode.Internal;
  return new FslmError(known, h.get(BusHeader.Error) || `stage replied ${code}`, { field: h.get(BusHeader.ErrorField) || undefined });
}

/** Whether an error reply means "no replica at all" (the router then fails fast). */
export function isNoResponders(msg: Pick<Msg, 'data' | 'headers'>): boolean {
  return msg.data.length === 0 && msg.headers?.code === 503;
}

// Score requests on a stage's NATS door (<prefix>.score, in the stage's queue group): ScoreRequest in,
// ScoreResponse or an error reply out, on the same engine as StageService.Score. A request ends, and the
// engine drops it within one step, at its deadline (the Fslm-Deadline header), on a cancel naming its
// request_id, or when the worker stops (UNAVAILABLE, so the caller can retry elsewhere).
import type { Msg, NatsConnection } from 'nats';
import { busCodec, deadlineOf } from '../../shared/bus-codec.ts';
import { errorHeaders } from '../../shared/bus-errors.ts';
import { ErrorCode, errorMessage, errors, toFslmError, type FslmError } from '../../shared/errors.ts';
import { within } from './bounded.ts';
import { toScoreInput } from './request-validation.ts';
import type { StageMetrics } from './stage-metrics.ts';
import type { InferenceEngine } from './types.ts';
import { toWireScore } from './wire.ts';

export interface NatsScorerOptions {
  modelVersion: string;
  metrics: StageMetrics;
  log(event: Record<string, unknown>): void;
}

export class NatsScorer {
  /** Score requests being worked on, by request id. */
  private readonly held = new Map<string, { abort: AbortController; done: Promise<void> }>();

  constructor(private readonly nc: NatsConnection, private readonly engine: InferenceEngine, private readonly options: NatsScorerOptions) {}

  /** Score requests held now. */
  get count(): number {
    return this.held.size;
  }

  /** Handles one message on the score subject; never throws. */
  onScore(msg: Msg): void {
    if (!msg.reply) {
      this.options.log({ event: 'refused', subject: msg.subject, code: ErrorCode.InvalidArgument, message: 'a score request needs a reply subject' });
      return;
    }
    const reply = msg.reply;
    let request;
    try {
      request = busCodec.decodeScoreRequest(msg.data);
    } catch (error) {
      this.options.metrics.refused('nats', ErrorCode.InvalidArgument);
      this.fail(reply, errors.invalidArgument(`malformed ScoreRequest: ${errorMessage(error)}`), '');
      return;
    }
    let requestId = request.request_id;
    try {
      const input = toScoreInput(request, this.engine.hasChatTemplate);
      requestId = input.requestId;
      if (this.held.has(requestId)) throw errors.invalidArgument(`request ${requestId} is already running here`, 'request_id');
      const deadlineMs = deadlineOf(msg.headers);
      if (deadlineMs <= Date.now()) throw errors.deadlineExceeded('the request arrived after its deadline');
      const abort = new AbortController();
      const timer = Number.isFinite(deadlineMs) ? setTimeout(() => abort.abort(errors.deadlineExceeded()), deadlineMs - Date.now()) : undefined;
      this.options.metrics.started('nats');
      const done = this.engine.score(input, { signal: abort.signal }).then(
        (result) => {
          this.publish(reply, busCodec.encodeScoreResponse(toWireScore(result, this.options.modelVersion)));
          this.options.metrics.finished('nats', null, null);
        },
        (error) => {
          this.fail(reply, toFslmError(error), input.requestId);
          this.options.metrics.finished('nats', null, toFslmError(error).code);
        },
      ).finally(() => {
        clearTimeout(timer);
        this.held.delete(input.requestId);
      });
      this.held.set(requestId, { abort, done });
    } catch (error) {
      const e = toFslmError(error);
      this.options.metrics.refused('nats', e.code);
      this.fail(reply, e, requestId);
    }
  }

  /** Ends a held score request with `error`; false when none has that id. */
  cancel(requestId: string, error: FslmError): boolean {
    const entry = this.held.get(requestId);
    entry?.abort.abort(error);
    return entry !== undefined;
  }

  /** Ends every held request with `error`, waiting at most `timeoutMs` for their replies to go out. */
  async stop(error: FslmError, timeoutMs: number): Promise<void> {
    for (const entry of this.held.values()) entry.abort.abort(error);
    await within(Promise.allSettled([...this.held.values()].map((e) => e.done)), timeoutMs);
  }

  private publish(subject: string, data: Uint8Array, headers?: ReturnType<typeof errorHeaders>): void {
    if (!this.nc.isClosed()) this.nc.publish(subject, data, headers ? { headers } : undefined);
  }

  private fail(reply: string, error: FslmError, requestId: string): void {
    this.options.log({ event: 'score-failed', request_id: requestId || null, code: error.code, message: error.message });
    this.publish(reply, new Uint8Array(0), errorHeaders(error, requestId || undefined));
  }
}

// One request held by a stage's NATS worker: accepted, heartbeats while it works, deltas in order, then
// a result or an error reply. It ends, and the engine stops working on it within one step, on a cancel
// message, its deadline, the engine refusing it, the reply inbox losing its subscriber (NATS answers
// a heartbeat with no-responders), or the worker stopping. A hand-off job waits for its start at most
// until its deadline, or HANDOFF_MAX_WAIT_MS when the run carries none.
import { context, SpanKind, SpanStatusCode, trace, type Context, type Tracer } from '@opentelemetry/api';
import type { NatsConnection } from 'nats';
import { busCodec } from '../../shared/bus-codec.ts';
import { errorHeaders } from '../../shared/bus-errors.ts';
import { ErrorCode, errors, FslmError, toFslmError } from '../../shared/errors.ts';
import { timerAt, type LongTimer } from '../../shared/long-timer.ts';
import type { StageEvent } from '../../shared/generated/fslm/v1/StageEvent.ts';
import {
  ATTR_GEN_AI_OPERATION_NAME, ATTR_GEN_AI_REQUEST_MAX_TOKENS, ATTR_GEN_AI_REQUEST_MODEL, ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS, ATTR_GEN_AI_RESPONSE_MODEL, ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, FslmAttr,
} from '../../shared/telemetry.ts';
import { DeltaBatcher } from './nats-delta-batcher.ts';
import type { HandoffPrompt } from './nats-handoff.ts';
import type { StageMetrics } from './stage-metrics.ts';
import type { GenerateInput, GenerateResult, InferenceEngine, TextDelta } from './types.ts';
import { toWireLogprobs, toWireResult } from './wire.ts';

export interface JobContext {
  nc: NatsConnection;
  engine: InferenceEngine;
  stack: string;
  stage: string;
  replica: string;
  controlSubject: string;
  model: string;
  modelVersion: string;
  adapterVersion?: string;
  precision?: string;
  tracer: Tracer;
  metrics: StageMetrics;
  /** How long a hand-off job without a deadline waits for its start. */
  handoffMaxWaitMs: number;
  log(event: Record<string, unknown>): void;
}

export interface JobRequest {
  replyTo: string;
  input: GenerateInput;
  attempt: number;
  deadlineMs: number;
  heartbeatMs: number;
  handoff: HandoffPrompt | null;
  parent: Context;
  /**
   * Reply subject of this job's accepted and heartbeat messages: the worker listens there, and NATS
   * answers it with no-responders when the reply inbox has no subscriber any more.
   */
  bounceSubject: string;
}

export const MIN_HEARTBEAT_MS = 50;

/** How long a hand-off job whose run carries no deadline waits for its start before it gives up. */
export const HANDOFF_MAX_WAIT_MS = 120_000;

export class NatsJob {
  private readonly abort = new AbortController();
  private deadlineTimer: LongTimer | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private heartbeatSeq = 0;
  private tokens = 0;
  private startWith: ((text: string) => void) | null = null;
  private readonly deltas = new DeltaBatcher((delta) => this.send({ delta }));

  constructor(private readonly ctx: JobContext, private readonly req: JobRequest) {}

  get requestId(): string {
    return this.req.input.requestId;
  }

  /** A hand-off job that has not received its start yet. */
  get awaitingStart(): boolean {
    return this.startWith !== null;
  }

  /** Serves the request to its end; never throws. */
  async run(): Promise<void> {
    const { ctx, req } = this;
    const span = ctx.tracer.startSpan(`chat ${ctx.model}`, {
      kind: SpanKind.SERVER,
      attributes: {
        [ATTR_GEN_AI_OPERATION_NAME]: 'chat', [ATTR_GEN_AI_REQUEST_MODEL]: ctx.model,
        [ATTR_GEN_AI_REQUEST_MAX_TOKENS]: req.input.sampling.maxNewTokens, [ATTR_GEN_AI_REQUEST_TEMPERATURE]: req.input.sampling.temperature,
        [FslmAttr.Stack]: ctx.stack, [FslmAttr.Stage]: ctx.stage, [FslmAttr.ModelVersion]: ctx.modelVersion,
        [FslmAttr.Replica]: ctx.replica, [FslmAttr.Attempt]: req.attempt, [FslmAttr.RequestId]: req.input.requestId,
        [FslmAttr.Handoff]: req.handoff !== null,
        ...(ctx.precision ? { [FslmAttr.Precision]: ctx.precision } : {}),
      },
    }, req.parent);
    const callbacks = {
      signal: this.abort.signal,
      onDelta: (delta: TextDelta) => {
        this.tokens += delta.tokens;
        this.deltas.push(delta.text, delta.tokens, delta.logprobs ? toWireLogprobs(delta.logprobs) : []);
      },
    };
    // The engine starts first; the bookkeeping below runs while it prefills.
    const generation = context.with(trace.setSpan(req.parent, span), async () => {
      if (!req.handoff) return ctx.engine.generate(req.input, callbacks);
      req.handoff.onRefused((error) => this.end(error));
      const text = await this.waitForStart();
      return req.handoff.start(text, callbacks);
    });
    this.send({ accepted: { replica: ctx.replica, control_subject: ctx.controlSubject, model: ctx.model, model_version: ctx.modelVersion, adapter_version: ctx.adapterVersion ?? '' } }, true);
    ctx.metrics.started('nats');
    this.setDeadline(req.deadlineMs);
    const heartbeatMs = Math.max(MIN_HEARTBEAT_MS, req.heartbeatMs);
    this.heartbeat = setInterval(() => this.send({ heartbeat: { seq: this.heartbeatSeq++, completion_tokens: this.tokens } }, true), heartbeatMs);
    let result: GenerateResult | null = null;
    let failure: FslmError | null = null;
    try {
      result = await generation;
      if (result.finishReason === 'deadline') throw errors.deadlineExceeded(`deadline exceeded after ${result.completionTokens} tokens`);
      if (result.finishReason === 'cancelled') {
        const reason = this.abort.signal.reason;
        throw reason instanceof FslmError ? reason : errors.cancelled(`cancelled after ${result.completionTokens} tokens`);
      }
      this.deltas.flush();
      this.send({ result: toWireResult(result, ctx.modelVersion) });
      clearInterval(this.heartbeat);
      // Let the NATS client write the result (a queued microtask) before the bookkeeping.
      await Promise.resolve();
      span.setAttributes({
        [ATTR_GEN_AI_RESPONSE_MODEL]: ctx.model, [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: result.promptTokens, [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: result.completionTokens,
        [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: [result.finishReason], [ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]: result.timings.firstTokenMs / 1000,
        [FslmAttr.TimeToFirstTokenMs]: result.timings.firstTokenMs,
      });
    } catch (error) {
      failure = toFslmError(error);
      this.deltas.close();
      req.handoff?.discard();
      if (failure.code !== ErrorCode.Cancelled) this.replyError(failure);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      span.setAttribute(FslmAttr.ErrorCode, failure.code);
    } finally {
      clearInterval(this.heartbeat);
      this.deadlineTimer?.clear();
      clearTimeout(this.startTimer);
      ctx.metrics.finished('nats', result, failure?.code ?? null);
      span.end();
      ctx.log({
        event: 'request', request_id: req.input.requestId, attempt: req.attempt,
        outcome: failure ? failure.code : 'OK', finish_reason: result?.finishReason ?? null,
        completion_tokens: result?.completionTokens ?? this.tokens, handoff: req.handoff ? req.handoff.path ?? 'not-started' : 'none',
        ms: result ? Math.round(result.timings.totalMs * 10) / 10 : null,
      });
    }
  }

  /** More of the previous stage's text (streamed hand-off). */
  append(seq: number, text: string): void {
    this.req.handoff?.append(seq, text);
  }

  /** The previous stage's whole text: generate now, within this stage's own deadline. */
  start(text: string, deadlineMs: number): void {
    if (Number.isFinite(deadlineMs) && deadlineMs > 0) this.setDeadline(deadlineMs);
    const go = this.startWith;
    this.startWith = null;
    go?.(text);
  }

  /** Ends the job with `error` (CANCELLED ends it without an error reply); the engine stops within one step. */
  end(error: FslmError): void {
    if (!this.abort.signal.aborted) this.abort.abort(error);
  }

  private waitForStart(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const signal = this.abort.signal;
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(this.startTimer);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (!Number.isFinite(this.req.deadlineMs)) {
        const wait = this.ctx.handoffMaxWaitMs;
        this.startTimer = setTimeout(() => this.end(errors.deadlineExceeded(`the hand-off was not started within ${wait} ms and the run carries no deadline`)), wait);
      }
      this.startWith = (text) => {
        clearTimeout(this.startTimer);
        signal.removeEventListener('abort', onAbort);
        resolve(text);
      };
    });
  }

  private setDeadline(deadlineMs: number): void {
    this.deadlineTimer?.clear();
    // A far deadline (beyond a Node timer's 24.8 days) is honoured too.
    this.deadlineTimer = Number.isFinite(deadlineMs) ? timerAt(deadlineMs, () => this.end(errors.deadlineExceeded())) : undefined;
  }

  /** `watch`: send with the bounce reply subject, so a reply inbox without subscriber is noticed. */
  private send(event: Omit<StageEvent, 'request_id'>, watch = false): void {
    if (this.ctx.nc.isClosed()) return;
    const data = busCodec.encodeEvent({ request_id: this.req.input.requestId, ...event });
    this.ctx.nc.publish(this.req.replyTo, data, watch ? { reply: this.req.bounceSubject } : undefined);
  }

  private replyError(error: FslmError): void {
    if (this.ctx.nc.isClosed()) return;
    this.ctx.nc.publish(this.req.replyTo, new Uint8Array(0), { headers: errorHeaders(error, this.req.input.requestId) });
  }
}

// One request held by a stage's NATS worker: accepted, heartbeats while it works, deltas in order, then
// a result or an error reply; cancelled by a control message or its deadline within one decode step.
import { context, SpanKind, SpanStatusCode, trace, type Context, type Tracer } from '@opentelemetry/api';
import type { NatsConnection } from 'nats';
import { busCodec } from '../../shared/bus-codec.ts';
import { errorHeaders } from '../../shared/bus-errors.ts';
import { ErrorCode, errors, FslmError, toFslmError } from '../../shared/errors.ts';
import type { StageEvent } from '../../shared/generated/fslm/v1/StageEvent.ts';
import {
  ATTR_GEN_AI_OPERATION_NAME, ATTR_GEN_AI_REQUEST_MAX_TOKENS, ATTR_GEN_AI_REQUEST_MODEL, ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS, ATTR_GEN_AI_RESPONSE_MODEL, ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, FslmAttr,
} from '../../shared/telemetry.ts';
import { DeltaBatcher } from './nats-delta-batcher.ts';
import type { HandoffPrompt } from './nats-handoff.ts';
import type { StageMetrics } from './stage-metrics.ts';
import type { GenerateInput, GenerateResult, InferenceEngine } from './types.ts';
import { toWireResult } from './wire.ts';

export interface JobContext {
  nc: NatsConnection;
  engine: InferenceEngine;
  stack: string;
  stage: string;
  replica: string;
  controlSubject: string;
  model: string;
  modelVersion: string;
  precision?: string;
  tracer: Tracer;
  metrics: StageMetrics;
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
}

export const MIN_HEARTBEAT_MS = 50;

export class NatsJob {
  private readonly abort = new AbortController();
  private deadlineTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private heartbeatSeq = 0;
  private tokens = 0;
  private startWith: ((text: string) => void) | null = null;
  private readonly deltas = new DeltaBatcher((delta) => this.send({ delta }));

  constructor(private readonly ctx: JobContext, private readonly req: JobRequest) {}

  get requestId(): string {
    return this.req.input.requestId;
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
      onDelta: (delta: { text: string; tokens: number }) => {
        this.tokens += delta.tokens;
        this.deltas.push(delta.text, delta.tokens);
      },
    };
    // The engine starts first; the bookkeeping below runs while it prefills.
    const generation = context.with(trace.setSpan(req.parent, span), async () => {
      if (!req.handoff) return ctx.engine.generate(req.input, callbacks);
      const text = await this.waitForStart();
      return req.handoff.start(text, callbacks);
    });
    this.send({ accepted: { replica: ctx.replica, control_subject: ctx.controlSubject, model: ctx.model, model_version: ctx.modelVersion } });
    ctx.metrics.started('nats');
    this.setDeadline(req.deadlineMs);
    const heartbeatMs = Math.max(MIN_HEARTBEAT_MS, req.heartbeatMs);
    this.heartbeat = setInterval(() => this.send({ heartbeat: { seq: this.heartbeatSeq++, completion_tokens: this.tokens } }), heartbeatMs);
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
      clearTimeout(this.deadlineTimer);
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

  cancel(error: FslmError): void {
    if (!this.abort.signal.aborted) this.abort.abort(error);
  }

  private waitForStart(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const signal = this.abort.signal;
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.startWith = (text) => {
        signal.removeEventListener('abort', onAbort);
        resolve(text);
      };
    });
  }

  private setDeadline(deadlineMs: number): void {
    clearTimeout(this.deadlineTimer);
    if (!Number.isFinite(deadlineMs)) return;
    this.deadlineTimer = setTimeout(() => this.cancel(errors.deadlineExceeded()), Math.max(0, deadlineMs - Date.now()));
  }

  private send(event: Omit<StageEvent, 'request_id'>): void {
    if (this.ctx.nc.isClosed()) return;
    this.ctx.nc.publish(this.req.replyTo, busCodec.encodeEvent({ request_id: this.req.input.requestId, ...event }));
  }

  private replyError(error: FslmError): void {
    if (this.ctx.nc.isClosed()) return;
    this.ctx.nc.publish(this.req.replyTo, new Uint8Array(0), { headers: errorHeaders(error, this.req.input.requestId) });
  }
}

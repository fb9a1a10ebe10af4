// Runs a stack over the bus: stages in order, one deadline split into stage budgets, cancellation,
// the streamed hand-off to the next stage, and a span per request and per stage.
import { randomBytes } from 'node:crypto';
import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { errors, toFslmError, type FslmError } from '../../shared/errors.ts';
import {
  ATTR_GEN_AI_OPERATION_NAME, ATTR_GEN_AI_REQUEST_MODEL, ATTR_GEN_AI_RESPONSE_FINISH_REASONS, ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ATTR_GEN_AI_USAGE_INPUT_TOKENS, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  extractContext, FslmAttr, injectContext, traceIdOf,
} from '../../shared/telemetry.ts';
import type { Admission } from './admission.ts';
import { defaultDeadline, stageDeadline } from './budget.ts';
import { HandoffFeed, insertedText } from './handoff-feed.ts';
import type { RouterMetrics } from './router-metrics.ts';
import { mergeParams, stageRequest } from './stage-prompt.ts';
import { runStage, type StageRunnerConfig } from './stage-runner.ts';
import type { MessageBus, RunObserver, StackDefinition, StackOutcome, StackRunRequest, StageAddress, StageOutcome } from './types.ts';
import { totalUsage } from './wire.ts';

const failedStages = new WeakMap<Error, string>();

/** The stage a run failed in, when a stage failed. */
export function failedStageOf(error: unknown): string {
  return error instanceof Error ? failedStages.get(error) ?? '' : '';
}

export interface StackRunnerDeps {
  bus: MessageBus;
  stacks: ReadonlyMap<string, StackDefinition>;
  admission: Admission;
  tracer: Tracer;
  metrics: RouterMetrics;
  config: StackRunnerConfig;
}

export interface StackRunnerConfig extends StageRunnerConfig {
  /**
   * The streamed hand-off is used while at most this many requests are in flight (this one included):
   * it lowers one request's latency, but its prefills run one prompt at a time, outside the batch,
   * which costs throughput under concurrent load.
   */
  handoffMaxInFlight: number;
}

export class StackRunner {
  /** Aborted when the router shuts down: every run in flight ends with its reason, and new ones are refused. */
  private readonly stopping = new AbortController();
  private readonly active = new Set<Promise<unknown>>();

  constructor(private readonly deps: StackRunnerDeps) {}

  /**
   * Ends every run in flight with `reason` (their stages are told to cancel) and refuses new runs with
   * it: a router that shuts down answers its callers at once (UNAVAILABLE, so they can try another).
   */
  stop(reason: FslmError): void {
    if (!this.stopping.signal.aborted) this.stopping.abort(reason);
  }

  /** Resolves once every run in flight has ended (after `stop`, promptly). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.active]);
  }

  /** The stack a request names; the only one when the name is empty and one is served. */
  resolve(name: string): StackDefinition {
    const { stacks } = this.deps;
    if (!name && stacks.size === 1) return [...stacks.values()][0];
    const stack = stacks.get(name);
    if (!stack) throw errors.notFound(`no stack named ${JSON.stringify(name)} (serving: ${[...stacks.keys()].join(', ')})`);
    return stack;
  }

  /**
   * Resolves the stack a caller names and checks what it asks of it (`build` throws on an invalid
   * request); a refusal is counted as a rejection, like one for too many requests in flight.
   */
  prepare(stackName: string, build: (stack: StackDefinition) => StackRunRequest): { stack: StackDefinition; request: StackRunRequest } {
    try {
      const stack = this.resolve(stackName);
      return { stack, request: build(stack) };
    } catch (error) {
      this.deps.metrics.rejected(stackName, toFslmError(error).code);
      throw error;
    }
  }

  /** Runs a request on a stack (the definition `prepare` resolved). */
  async run(stack: StackDefinition, request: StackRunRequest, observer: RunObserver = {}): Promise<StackOutcome> {
    const { metrics, tracer } = this.deps;
    let release: () => void;
    try {
      if (this.stopping.signal.aborted) throw this.stopping.signal.reason;
      release = this.deps.admission.acquire();
    } catch (error) {
      metrics.rejected(stack.name, toFslmError(error).code);
      throw error;
    }
    const started = performance.now();
    metrics.requestStarted(stack.name);
    const parent = request.trace ? extractContext(request.trace) : context.active();
    const span = tracer.startSpan(`chat ${stack.name}`, {
      kind: SpanKind.SERVER,
      attributes: { [ATTR_GEN_AI_OPERATION_NAME]: 'chat', [ATTR_GEN_AI_REQUEST_MODEL]: stack.name, [FslmAttr.Stack]: stack.name, [FslmAttr.RequestId]: request.requestId },
    }, parent);
    try {
      const handoff = request.handoff && this.deps.admission.inFlight <= this.deps.config.handoffMaxInFlight;
      const signal = AbortSignal.any([request.signal, this.stopping.signal]);
      const running = new RunOfStack(this.deps, stack, { ...request, handoff, signal }, observer, span).run();
      this.active.add(running);
      const outcome = await running.finally(() => this.active.delete(running));
      const usage = totalUsage(outcome.stages);
      span.setAttributes({ [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: usage.prompt_tokens, [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: usage.completion_tokens });
      metrics.requestFinished(stack.name, performance.now() - started, null);
      return { ...outcome, totalMs: performance.now() - started };
    } catch (error) {
      const e = toFslmError(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      span.setAttribute(FslmAttr.ErrorCode, e.code);
      metrics.requestFinished(stack.name, performance.now() - started, e.code);
      throw e;
    } finally {
      release();
      span.end();
    }
  }
}

/** One request's walk through a stack. */
class RunOfStack {
  private readonly texts: Record<string, string> = {};
  private readonly stageSpans = new Map<number, Span>();
  private readonly deadlineMs: number;

  constructor(
    private readonly deps: StackRunnerDeps,
    private readonly stack: StackDefinition,
    private readonly request: StackRunRequest,
    private readonly observer: RunObserver,
    private readonly root: Span,
  ) {
    this.deadlineMs = Number.isFinite(request.deadlineMs) ? request.deadlineMs : defaultDeadline(stack.stages, Date.now());
  }

  /** The outcome but its total time, which the caller measures. */
  async run(): Promise<Omit<StackOutcome, 'totalMs'>> {
    const outcomes: StageOutcome[] = [];
    let feed: HandoffFeed | null = null;
    let previousResultAt = 0;
    try {
      for (let index = 0; index < this.stack.stages.length; index++) {
        const prepared: ReturnType<HandoffFeed['take']> = feed ? feed.take() : null;
        feed = this.feedFor(index + 1);
        const outcome = await this.runStageAt(index, prepared, feed, previousResultAt);
        previousResultAt = outcome.resultAt;
        outcomes.push(outcome.stage);
      }
    } catch (error) {
      feed?.discard();
      for (const [, span] of this.stageSpans) span.end();
      throw error;
    }
    const last = outcomes[outcomes.length - 1];
    return { requestId: this.request.requestId, stack: this.stack.name, text: last.text, stages: outcomes, traceId: traceIdOf(this.root) };
  }

  private address(index: number): StageAddress {
    const stage = this.stack.stages[index];
    return { stack: this.stack.name, stage: stage.name, subjectPrefix: stage.subjectPrefix };
  }

  private stageSpan(index: number): Span {
    let span = this.stageSpans.get(index);
    if (!span) {
      const stage = this.stack.stages[index];
      span = this.deps.tracer.startSpan(`stage ${stage.name}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_GEN_AI_OPERATION_NAME]: 'chat', [ATTR_GEN_AI_REQUEST_MODEL]: stage.model,
          [FslmAttr.Stack]: this.stack.name, [FslmAttr.Stage]: stage.name, [FslmAttr.StageIndex]: index, [FslmAttr.RequestId]: this.request.requestId,
        },
      }, trace.setSpan(context.active(), this.root));
      this.stageSpans.set(index, span);
    }
    return span;
  }

  private headers(index: number) {
    return { requestId: this.request.requestId, deadlineMs: this.deadlineMs, trace: injectContext(trace.setSpan(context.active(), this.stageSpan(index))) };
  }

  private params(index: number) {
    const stage = this.stack.stages[index];
    return mergeParams(stage.params, this.request.params[stage.name]);
  }

  /** A feed that prepares stage `index` while the stage before it streams, when its template allows. */
  private feedFor(index: number): HandoffFeed | null {
    const stage = this.stack.stages[index];
    if (!this.request.handoff || !stage?.handoffFrom) return null;
    const sentinel = `\u27e6fslm-handoff-${randomBytes(8).toString('hex')}\u27e7`;
    const request = stageRequest(stage, { input: this.request.input, stages: this.texts }, this.params(index), { stage: stage.handoffFrom, sentinel });
    // Its own id: a plain attempt that replaces an unready feed must not collide with it on the replica.
    const requestId = `${this.request.requestId}.${stage.name}.handoff`;
    const address = this.address(index);
    return new HandoffFeed(this.deps.bus, address, {
      request: { ...request, request_id: requestId }, stack: address.stack, stage: address.stage, attempt: 1,
      heartbeat_ms: this.deps.config.heartbeatMs, handoff_sentinel: sentinel,
    }, this.headers(index), this.deps.config.heartbeatTimeoutMs);
  }

  private async runStageAt(index: number, prepared: ReturnType<HandoffFeed['take']>, next: HandoffFeed | null, previousResultAt: number) {
    const stage = this.stack.stages[index];
    const span = this.stageSpan(index);
    const startedAt = performance.now();
    const deadlineMs = stageDeadline(this.stack.stages, index, Date.now(), this.deadlineMs);
    const request = prepared ? { params: this.params(index) } : stageRequest(stage, { input: this.request.input, stages: this.texts }, this.params(index));
    const handoffText = prepared && stage.handoffFrom ? this.texts[stage.handoffFrom] : '';
    try {
      const done = await runStage(this.deps.bus, {
        address: this.address(index),
        request,
        headers: this.headers(index),
        deadlineMs,
        signal: this.request.signal,
        handoff: prepared ? { prepared, text: handoffText } : null,
        hooks: {
          started: (attempt, accepted) => {
            next?.open();
            this.observer.stageStarted?.({ stage: stage.name, index, attempt, replica: accepted.replica, model: accepted.model, modelVersion: accepted.model_version });
          },
          delta: (attempt, delta) => {
            next?.append(delta.text);
            this.observer.stageDelta?.({ stage: stage.name, index, attempt, delta });
          },
          retrying: () => {
            next?.reset();
            this.deps.metrics.stageRetried(this.stack.name, stage.name);
          },
        },
      }, this.deps.config);
      const text = insertedText(done.result.text);
      this.texts[stage.name] = text;
      const outcome: StageOutcome = {
        stage: stage.name, index, text: done.result.text, result: done.result,
        model: done.accepted.model || stage.model, modelVersion: done.result.model_version || done.accepted.model_version,
        replica: done.accepted.replica, attempts: done.attempts, streamedHandoff: done.streamedHandoff,
        handoffGapMs: index > 0 ? done.firstDeltaAt - previousResultAt : 0, durationMs: done.resultAt - startedAt,
      };
      const ttftMs = done.firstDeltaAt - startedAt;
      span.setAttributes({
        [ATTR_GEN_AI_RESPONSE_MODEL]: outcome.model, [FslmAttr.ModelVersion]: outcome.modelVersion,
        [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: done.result.usage?.prompt_tokens ?? 0, [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: done.result.usage?.completion_tokens ?? 0,
        [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: [done.result.finish_reason], [ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]: ttftMs / 1000,
        [FslmAttr.TimeToFirstTokenMs]: done.result.timings?.first_token_ms ?? 0, [FslmAttr.Attempt]: done.attempts,
        [FslmAttr.Replica]: outcome.replica, [FslmAttr.Handoff]: outcome.streamedHandoff,
      });
      this.deps.metrics.stageFinished(this.stack.name, outcome, ttftMs);
      this.observer.stageFinished?.(outcome);
      return { stage: outcome, resultAt: done.resultAt };
    } catch (error) {
      const e = toFslmError(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      span.setAttribute(FslmAttr.ErrorCode, e.code);
      failedStages.set(e, stage.name);
      throw e;
    } finally {
      span.end();
      this.stageSpans.delete(index);
    }
  }
}

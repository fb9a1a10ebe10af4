// One request's walk through a stack, once it has been checked and admitted: stages in order, each
// allowed all the time left before the request's work deadline, the streamed hand-off to the next
// stage, and a span per stage.
import { randomBytes } from 'node:crypto';
import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { ErrorCode, toFslmError, type FslmError } from '../../shared/errors.ts';
import {
  ATTR_GEN_AI_OPERATION_NAME, ATTR_GEN_AI_REQUEST_MODEL, ATTR_GEN_AI_RESPONSE_FINISH_REASONS, ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ATTR_GEN_AI_USAGE_INPUT_TOKENS, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  FslmAttr, injectContext, traceIdOf,
} from '../../shared/telemetry.ts';
import { HandoffFeed, insertedText, type PreparedHandoff } from './handoff-feed.ts';
import { RequestError, requestErrors } from './request-errors.ts';
import type { RouterMetrics } from './router-metrics.ts';
import { GRPC_FIELDS } from './run-request.ts';
import { mergeParams, stageRequest } from './stage-prompt.ts';
import { runStage, type StageRunnerConfig } from './stage-runner.ts';
import type { MessageBus, RunObserver, StackDefinition, StackOutcome, StackRunRequest, StageAddress, StageOutcome } from './types.ts';

const failedStages = new WeakMap<Error, string>();
/** The field a stage names when it refuses the prompt it was sent (its size; see the stage's engine-limits.ts). */
const PROMPT_FIELD = 'prompt';

/** The stage a run failed in, when a stage failed. */
export function failedStageOf(error: unknown): string {
  return error instanceof Error ? failedStages.get(error) ?? '' : '';
}

/** Records that `error` happened in `stage` (the first stage recorded wins). */
export function markFailedStage(error: Error, stage: string): void {
  if (!failedStages.has(error)) failedStages.set(error, stage);
}

/**
 * A stage's refusal of the prompt it was sent for its size (its exact count, which the router's lower
 * bound could not prove) as what it is to the client: the input is too long for the stack, OpenAI's
 * context_length_exceeded on the input field, as when the router refuses it itself.
 */
function asClientRefusal(e: FslmError, request: StackRunRequest): FslmError {
  if (e.code !== ErrorCode.InvalidArgument || e.field !== PROMPT_FIELD || e instanceof RequestError) return e;
  return requestErrors.contextLength((request.fields ?? GRPC_FIELDS).input, e.message);
}

export interface StackRunDeps {
  bus: MessageBus;
  tracer: Tracer;
  metrics: RouterMetrics;
  config: StageRunnerConfig;
}

export class StackRun {
  private readonly texts: Record<string, string> = {};
  private readonly stageSpans = new Map<number, Span>();

  /** `deadlineMs`: when the request's work must end (budget.ts). */
  constructor(
    private readonly deps: StackRunDeps,
    private readonly stack: StackDefinition,
    private readonly request: StackRunRequest,
    private readonly deadlineMs: number,
    private readonly observer: RunObserver,
    private readonly root: Span,
  ) {}

  /** The outcome but its total time, which the caller measures. */
  async run(): Promise<Omit<StackOutcome, 'totalMs'>> {
    const outcomes: StageOutcome[] = [];
    let feed: HandoffFeed | null = null;
    let previousResultAt = 0;
    try {
      for (let index = 0; index < this.stack.stages.length; index++) {
        const prepared: PreparedHandoff | null = feed ? feed.take() : null;
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

  private async runStageAt(index: number, prepared: PreparedHandoff | null, next: HandoffFeed | null, previousResultAt: number) {
    const stage = this.stack.stages[index];
    const span = this.stageSpan(index);
    const startedAt = performance.now();
    // The whole prompt even when a hand-off replica is prepared: if that replica fails, the retry is a
    // plain request and needs it.
    const request = stageRequest(stage, { input: this.request.input, stages: this.texts }, this.params(index));
    const handoffText = prepared && stage.handoffFrom ? this.texts[stage.handoffFrom] : '';
    try {
      const done = await runStage(this.deps.bus, {
        address: this.address(index),
        request,
        headers: this.headers(index),
        deadlineMs: this.deadlineMs,
        signal: this.request.signal,
        handoff: prepared ? { prepared, text: handoffText } : null,
        hooks: {
          started: (attempt, accepted) => {
            this.observer.stageStarted?.({ stage: stage.name, index, attempt, replica: accepted.replica, model: accepted.model, modelVersion: accepted.model_version, adapterVersion: accepted.adapter_version });
          },
          delta: (attempt, delta) => {
            // The next stage is opened once this one streams text: its replica has taken its prompt by then.
            next?.open();
            next?.append(delta.text);
            this.observer.stageDelta?.({ stage: stage.name, index, attempt, delta });
          },
          retrying: () => {
            next?.reset();
            this.deps.metrics.stageRetried(this.stack, stage);
          },
        },
      }, this.deps.config);
      this.texts[stage.name] = insertedText(done.result.text);
      const outcome: StageOutcome = {
        stage: stage.name, index, text: done.result.text, result: done.result,
        model: done.accepted.model || stage.model, modelVersion: done.result.model_version || done.accepted.model_version,
        adapterVersion: done.accepted.adapter_version,
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
      this.deps.metrics.stageFinished(this.stack, outcome, ttftMs);
      this.observer.stageFinished?.(outcome);
      return { stage: outcome, resultAt: done.resultAt };
    } catch (error) {
      const e = asClientRefusal(toFslmError(error), this.request);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      span.setAttribute(FslmAttr.ErrorCode, e.code);
      markFailedStage(e, stage.name);
      throw e;
    } finally {
      span.end();
      this.stageSpans.delete(index);
    }
  }
}

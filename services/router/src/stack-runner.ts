// Runs stacks over the bus. A request is resolved and checked field by field at its door (prepare),
// then admitted, then checked against the limits its stages describe (stage-limits.ts,
// request-limits.ts) — all before any stage is opened — and only then walked through the stages
// (stack-run.ts) within one deadline (budget.ts), under a root span.
import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { errors, FslmError, toFslmError } from '../../shared/errors.ts';
import {
  ATTR_GEN_AI_OPERATION_NAME, ATTR_GEN_AI_REQUEST_MODEL, ATTR_GEN_AI_USAGE_INPUT_TOKENS, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, extractContext, FslmAttr,
  injectContext, traceIdOf,
} from '../../shared/telemetry.ts';
import type { Admission } from './admission.ts';
import { workDeadline } from './budget.ts';
import { DEFAULT_DESCRIBE_TTL_MS, DESCRIBE_TIMEOUT_MS } from './defaults.ts';
import { timerAt } from '../../shared/long-timer.ts';
import { requestErrors } from './request-errors.ts';
import { checkAgainstLimits } from './request-limits.ts';
import type { RouterMetrics } from './router-metrics.ts';
import { StackRun, markFailedStage } from './stack-run.ts';
import { mergeParams, stageRequest } from './stage-prompt.ts';
import { StageLimitsCache, type StageLimits } from './stage-limits.ts';
import type { StageRunnerConfig } from './stage-runner.ts';
import type { MessageBus, RunObserver, ScoreAsk, StackDefinition, StackOutcome, StackRunRequest, StackScoreOutcome, StageOutcome } from './types.ts';
import { totalUsage } from './wire.ts';

export { failedStageOf } from './stack-run.ts';

export interface StackRunnerDeps {
  bus: MessageBus;
  stacks: ReadonlyMap<string, StackDefinition>;
  admission: Admission;
  tracer: Tracer;
  metrics: RouterMetrics;
  config: StackRunnerConfig;
  /** The stages' limits; by default asked of the stages over `bus`, kept DEFAULT_DESCRIBE_TTL_MS. */
  limits?: StageLimitsCache;
}

export interface StackRunnerConfig extends StageRunnerConfig {
  /**
   * The streamed hand-off is used while at most this many requests are in flight (this one included):
   * it lowers one request's latency, but its prefills run one prompt at a time, outside the batch,
   * which costs throughput under concurrent load.
   */
  handoffMaxInFlight: number;
}

/** Waits for `work` unless the request is aborted or its deadline passes first. */
function untilEnd<T>(work: Promise<T>, signal: AbortSignal, deadlineMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = (error: FslmError) => {
      timer.clear();
      signal.removeEventListener('abort', onAbort);
      reject(error);
    };
    const onAbort = () => stop(signal.reason instanceof FslmError ? signal.reason : errors.cancelled());
    const timer = timerAt(deadlineMs, () => stop(errors.deadlineExceeded('the request\'s deadline passed while its stages were being described')));
    signal.addEventListener('abort', onAbort);
    if (signal.aborted) onAbort();
    work.then((value) => {
      timer.clear();
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    }, (error) => stop(toFslmError(error)));
  });
}

export class StackRunner {
  private readonly limits: StageLimitsCache;
  /** Aborted when the router shuts down: every run in flight ends with its reason, and new ones are refused. */
  private readonly stopping = new AbortController();
  private readonly active = new Set<Promise<unknown>>();

  constructor(private readonly deps: StackRunnerDeps) {
    this.limits = deps.limits ?? new StageLimitsCache(deps.bus, { ttlMs: DEFAULT_DESCRIBE_TTL_MS, timeoutMs: DESCRIBE_TIMEOUT_MS });
  }

  /**
   * The stack a request names (`field` is where it named it: gRPC `stack`, OpenAI `model`); the only
   * one when the name is empty and one is served. NOT_FOUND (OpenAI model_not_found) otherwise.
   */
  resolve(name: string, field = 'stack'): StackDefinition {
    const { stacks } = this.deps;
    if (!name && stacks.size === 1) return [...stacks.values()][0];
    const stack = stacks.get(name);
    if (!stack) throw requestErrors.modelNotFound(field, `the model (stack) ${JSON.stringify(name)} does not exist (serving: ${[...stacks.keys()].join(', ')})`);
    return stack;
  }

  /**
   * Resolves the stack a caller names and checks what it asks of it (`build` throws on an invalid
   * request); a refusal is counted as a rejection, under UNKNOWN_STACK when the name is not served.
   */
  prepare(stackName: string, build: (stack: StackDefinition) => StackRunRequest, field = 'stack'): { stack: StackDefinition; request: StackRunRequest } {
    let stack: StackDefinition | null = null;
    try {
      stack = this.resolve(stackName, field);
      return { stack, request: build(stack) };
    } catch (error) {
      this.deps.metrics.rejected(stack, toFslmError(error).code);
      throw error;
    }
  }

  /** Counts a request refused before its stack was resolved (under its stack only when `name` is one the router serves), and throws `error`. */
  refused(name: unknown, error: unknown): never {
    const stack = typeof name === 'string' ? this.deps.stacks.get(name) ?? null : null;
    this.deps.metrics.rejected(stack, toFslmError(error).code);
    throw error;
  }

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

  /** The described limits of every stage, or the first stage's error (marked with its name). */
  private async stageLimits(stack: StackDefinition, deadlineMs: number): Promise<StageLimits[]> {
    return Promise.all(stack.stages.map((stage) =>
      this.limits.limitsOf({ stack: stack.name, stage: stage.name, subjectPrefix: stage.subjectPrefix }, deadlineMs).catch((error) => {
        const e = toFslmError(error);
        markFailedStage(e, stage.name);
        throw e;
      })));
  }

  /**
   * Admits a request, checks it against its stages' limits and runs it (on the definition `prepare`
   * resolved). Nothing is sent to a stage before every check has passed.
   */
  async run(stack: StackDefinition, asked: StackRunRequest, observer: RunObserver = {}): Promise<StackOutcome> {
    return this.admitted(stack, asked, 'chat', (request, deadlineMs, span, handoff) =>
      new StackRun(this.deps, stack, { ...request, handoff }, deadlineMs, observer, span).run());
  }

  /**
   * Admits and checks a request like run(), runs every stage but the last, renders the last stage's
   * prompt from their texts and scores `ask.continuations` as its answer (StageService.Score over the
   * bus, within the same deadline; an abort tells the stage to drop it).
   */
  async score(stack: StackDefinition, asked: StackRunRequest, ask: ScoreAsk): Promise<StackScoreOutcome> {
    return this.admitted(stack, asked, 'score', async (request, deadlineMs, span, handoff) => {
      const last = stack.stages[stack.stages.length - 1];
      const earlier = stack.stages.length > 1
        ? await new StackRun(this.deps, { ...stack, stages: stack.stages.slice(0, -1) }, { ...request, handoff }, deadlineMs, {}, span).run()
        : null;
      const stages = earlier?.stages ?? [];
      const texts = Object.fromEntries(stages.map((s) => [s.stage, s.text]));
      const messages = stageRequest(last, { input: request.input, stages: texts }, mergeParams(last.params, request.params[last.name])).messages ?? [];
      const address = { stack: stack.name, stage: last.name, subjectPrefix: last.subjectPrefix };
      const startedAt = performance.now();
      try {
        const score = await this.deps.bus.score(address, {
          messages, continuations: ask.continuations, top_logprobs: ask.topLogprobs, request_id: `${request.requestId}.${last.name}.score`,
        }, { requestId: request.requestId, deadlineMs, trace: injectContext(trace.setSpan(context.active(), span)) }, request.signal);
        return { requestId: request.requestId, stack: stack.name, stages, scoredStage: last.name, messages, score, model: last.model,
          scoreMs: performance.now() - startedAt, traceId: traceIdOf(span) };
      } catch (error) {
        const e = toFslmError(error);
        markFailedStage(e, last.name);
        throw e;
      }
    });
  }

  /**
   * Admission, the described limits, metrics and the root span around a request's work; `work` gets the
   * request with the router's stop signal joined to the caller's.
   */
  private async admitted<T extends { stages: StageOutcome[] }>(
    stack: StackDefinition, asked: StackRunRequest, operation: string,
    work: (request: StackRunRequest, deadlineMs: number, span: Span, handoff: boolean) => Promise<T>,
  ): Promise<T & { totalMs: number }> {
    const { metrics, tracer } = this.deps;
    const request = { ...asked, signal: AbortSignal.any([asked.signal, this.stopping.signal]) };
    let release: () => void;
    try {
      if (this.stopping.signal.aborted) throw this.stopping.signal.reason;
      release = this.deps.admission.acquire();
    } catch (error) {
      metrics.rejected(stack, toFslmError(error).code);
      throw error;
    }
    const started = performance.now();
    const parent = request.trace ? extractContext(request.trace) : context.active();
    const span = tracer.startSpan(`${operation} ${stack.name}`, {
      kind: SpanKind.SERVER,
      attributes: { [ATTR_GEN_AI_OPERATION_NAME]: operation, [ATTR_GEN_AI_REQUEST_MODEL]: stack.name, [FslmAttr.Stack]: stack.name, [FslmAttr.RequestId]: request.requestId },
    }, parent);
    try {
      const deadlineMs = workDeadline(stack.stages, request.deadlineMs, Date.now());
      try {
        if (Date.now() >= deadlineMs) throw errors.deadlineExceeded('the request\'s deadline (less the router\'s margin) passed before any stage could start');
        checkAgainstLimits(stack, request, await untilEnd(this.stageLimits(stack, deadlineMs), request.signal, deadlineMs));
      } catch (error) {
        metrics.rejected(stack, toFslmError(error).code);
        throw error;
      }
      metrics.requestStarted(stack);
      try {
        const handoff = request.handoff && this.deps.admission.inFlight <= this.deps.config.handoffMaxInFlight;
        const running = work(request, deadlineMs, span, handoff);
        this.active.add(running);
        const outcome = await running.finally(() => this.active.delete(running));
        const usage = totalUsage(outcome.stages);
        span.setAttributes({ [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: usage.prompt_tokens, [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: usage.completion_tokens });
        metrics.requestFinished(stack, performance.now() - started, null);
        return { ...outcome, totalMs: performance.now() - started };
      } catch (error) {
        metrics.requestFinished(stack, performance.now() - started, toFslmError(error).code);
        throw error;
      }
    } catch (error) {
      const e = toFslmError(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      span.setAttribute(FslmAttr.ErrorCode, e.code);
      throw e;
    } finally {
      release();
      span.end();
    }
  }
}

// Runs one stage of a stack over the bus: one attempt per replica, watched by heartbeats, within the
// request's deadline; a lost replica is retried on another one while the deadline and attempts allow.
import { ErrorCode, errors, FslmError } from '../../shared/errors.ts';
import type { GenerateRequest } from '../../shared/generated/fslm/v1/GenerateRequest.ts';
import type { GenerateResult__Output } from '../../shared/generated/fslm/v1/GenerateResult.ts';
import type { StageAccepted__Output } from '../../shared/generated/fslm/v1/StageAccepted.ts';
import type { TextDelta__Output } from '../../shared/generated/fslm/v1/TextDelta.ts';
import type { PreparedHandoff } from './handoff-feed.ts';
import type { ConversationEvent, HopHeaders, MessageBus, StageAddress, StageConversation } from './types.ts';
import { HeartbeatWatch } from './heartbeat-watch.ts';
import { timerAt } from '../../shared/long-timer.ts';

export interface StageRunnerConfig {
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  maxAttempts: number;
}

export interface StageHooks {
  started(attempt: number, accepted: StageAccepted__Output): void;
  delta(attempt: number, delta: TextDelta__Output): void;
  /** Attempt `failed` failed and the stage starts over on another replica (attempt `failed` + 1). */
  retrying(failed: number): void;
}

export interface StageCall {
  address: StageAddress;
  /**
   * The stage's whole prompt and parameters (request_id is set per attempt); sent by every plain
   * attempt, including the one that follows a failed hand-off replica.
   */
  request: GenerateRequest;
  headers: HopHeaders;
  /** When the stage's work must end (epoch ms): the request's deadline, less the margin (budget.ts). */
  deadlineMs: number;
  signal: AbortSignal;
  /** A replica the streamed hand-off has prepared, with the previous stage's full inserted text. */
  handoff: { prepared: PreparedHandoff; text: string } | null;
  hooks: StageHooks;
}

export interface StageCallResult {
  result: GenerateResult__Output;
  accepted: StageAccepted__Output;
  attempts: number;
  streamedHandoff: boolean;
  /** Router clock (performance.now()) of the first delta and of the result. */
  firstDeltaAt: number;
  resultAt: number;
}

type AttemptOutcome =
  | { kind: 'result'; result: GenerateResult__Output; accepted: StageAccepted__Output; firstDeltaAt: number }
  /** The replica went quiet, or a message of its stream went missing (`detail` says which). */
  | { kind: 'lost'; detail: string }
  | { kind: 'error'; error: FslmError; noResponders: boolean };

const RETRYABLE = new Set<string>([ErrorCode.Unavailable, ErrorCode.ResourceExhausted, ErrorCode.Internal]);

export async function runStage(bus: MessageBus, call: StageCall, config: StageRunnerConfig): Promise<StageCallResult> {
  let lastError: FslmError | null = null;
  // A replica prepared by the hand-off that fails gets a plain try on top of maxAttempts.
  const limit = config.maxAttempts + (call.handoff ? 1 : 0);
  for (let attempt = 1; attempt <= limit; attempt++) {
    const prepared = attempt === 1 ? call.handoff : null;
    const early = call.signal.aborted ? abortError(call.signal)
      : Date.now() >= call.deadlineMs ? errors.deadlineExceeded(`deadline exceeded before stage ${call.address.stage} could ${attempt === 1 ? 'start' : 'be retried'}`)
      : null;
    if (early) {
      prepared?.prepared.conversation.cancel(early.code === ErrorCode.DeadlineExceeded ? 'deadline' : 'cancelled');
      throw early;
    }
    const requestId = `${call.headers.requestId}.${call.address.stage}.${attempt}`;
    let conversation: StageConversation;
    let startWhenAccepted: (() => void) | null = null;
    if (prepared) {
      const handoff = prepared.prepared.conversation;
      conversation = handoff;
      const start = () => handoff.control({ request_id: handoff.requestId, start: { text: prepared.text, deadline_unix_ms: String(Math.round(call.deadlineMs)) } }, { ...call.headers, deadlineMs: call.deadlineMs });
      if (prepared.prepared.accepted) {
        start();
        call.hooks.started(attempt, prepared.prepared.accepted);
      } else {
        startWhenAccepted = start;
      }
    } else {
      conversation = bus.open(call.address, {
        request: { ...call.request, request_id: requestId },
        stack: call.address.stack,
        stage: call.address.stage,
        attempt,
        heartbeat_ms: config.heartbeatMs,
      }, { ...call.headers, deadlineMs: call.deadlineMs });
    }
    const outcome = await watchAttempt(conversation, call, attempt, config, prepared?.prepared.accepted ?? null, startWhenAccepted);
    if (outcome.kind === 'result') {
      return { result: outcome.result, accepted: outcome.accepted, attempts: attempt, streamedHandoff: prepared !== null, firstDeltaAt: outcome.firstDeltaAt, resultAt: performance.now() };
    }
    if (prepared) {
      // The replica the hand-off prepared failed: try again with a plain request.
      lastError = outcome.kind === 'error' ? outcome.error : errors.unavailable(`stage ${call.address.stage}: its hand-off replica ${outcome.detail}`);
    } else if (outcome.kind === 'error') {
      if (outcome.noResponders) throw errors.unavailable(`stage ${call.address.stage}: no replica is listening on ${call.address.subjectPrefix}.run`);
      if (!RETRYABLE.has(outcome.error.code)) throw outcome.error;
      lastError = outcome.error;
    } else {
      lastError = errors.unavailable(`stage ${call.address.stage}: its replica ${outcome.detail}`);
    }
    if (attempt < limit) call.hooks.retrying(attempt);
  }
  throw lastError ?? errors.unavailable(`stage ${call.address.stage} failed`);
}

function abortError(signal: AbortSignal): FslmError {
  return signal.reason instanceof FslmError ? signal.reason : errors.cancelled();
}

/** Follows one attempt to its end: a result, an error reply, a lost replica, the deadline or an abort. */
function watchAttempt(
  conversation: StageConversation, call: StageCall, attempt: number, config: StageRunnerConfig, alreadyAccepted: StageAccepted__Output | null,
  onAccepted: (() => void) | null,
): Promise<AttemptOutcome> {
  return new Promise<AttemptOutcome>((resolve, reject) => {
    let accepted = alreadyAccepted;
    let firstDeltaAt = 0;
    let nextSeq = 0;
    let done = false;
    const finish = (outcome: AttemptOutcome | null, error?: FslmError, cancel?: 'cancelled' | 'deadline') => {
      if (done) return;
      done = true;
      watch.stop();
      deadlineTimer.clear();
      call.signal.removeEventListener('abort', onAbort);
      if (cancel) conversation.cancel(cancel);
      else conversation.close();
      if (error) reject(error);
      else resolve(outcome!);
    };
    const onAbort = () => finish(null, abortError(call.signal), 'cancelled');
    call.signal.addEventListener('abort', onAbort);
    const deadlineTimer = timerAt(call.deadlineMs,
      () => finish(null, errors.deadlineExceeded(`stage ${call.address.stage} did not finish before the request's deadline`), 'deadline'));
    const watch = new HeartbeatWatch(config.heartbeatTimeoutMs, () => finish({ kind: 'lost', detail: 'stopped sending heartbeats' }, undefined, 'cancelled'));
    conversation.listen((event: ConversationEvent) => {
      if (done) return;
      watch.heard();
      switch (event.type) {
        case 'accepted':
          accepted = event.accepted;
          onAccepted?.();
          call.hooks.started(attempt, event.accepted);
          break;
        case 'heartbeat':
          break;
        case 'delta':
          // NATS delivers at most once: a delta lost (e.g. while a client reconnects) leaves the text
          // incomplete, so the attempt is given up and the stage retried.
          if (Number(event.delta.seq) !== nextSeq) {
            finish({ kind: 'lost', detail: `sent delta ${event.delta.seq} after ${nextSeq - 1}: the deltas between were lost` }, undefined, 'cancelled');
            break;
          }
          nextSeq++;
          if (firstDeltaAt === 0) firstDeltaAt = performance.now();
          call.hooks.delta(attempt, event.delta);
          break;
        case 'result':
          if (firstDeltaAt === 0) firstDeltaAt = performance.now();
          finish({ kind: 'result', result: event.result, accepted: accepted ?? emptyAccepted(), firstDeltaAt });
          break;
        case 'error':
          finish({ kind: 'error', error: event.error, noResponders: event.noResponders ?? false }, undefined, event.noResponders ? undefined : 'cancelled');
          break;
      }
    });
    if (call.signal.aborted) onAbort();
  });
}

function emptyAccepted(): StageAccepted__Output {
  return { replica: '', control_subject: '', model: '', model_version: '', adapter_version: '' };
}

// A chat completion streamed as OpenAI server-sent events. Nothing is sent until the run has produced
// text (its first delta): a request that fails before that gets its HTTP error status and an OpenAI
// error body, never a 200. Once the stream has begun, an error ends it with an error event and then
// `data: [DONE]`. The final stage's text reaches `delta.content` through a RetryTextGuard, so a retry on
// another replica never repeats or mixes text; every stage's text also travels, with its attempt
// number, in the `fslm` extension of the chunks. With logprobs, each chunk that carries final-stage
// tokens carries their entries in `choices[0].logprobs.content` (LogprobsStream keeps them to one per
// token over retries); the entries no delta carried (an end-of-sequence token, tokens held back by a
// stop string) come with the stage's last chunk, so all chunks together hold the stage's result's.
import type { ServerResponse } from 'node:http';
import { toFslmError } from '../../shared/errors.ts';
import { toHttpError } from './http-status.ts';
import { LogprobsStream, toOpenAiLogprobs } from './openai-logprobs.ts';
import { extensionOf, finishReasonOf, usageOf } from './openai-response.ts';
import { sendError, type Headers } from './http-send.ts';
import { RetryTextGuard } from './retry-text-guard.ts';
import { failedStageOf, type StackRunner } from './stack-runner.ts';
import type { TokenLogprob__Output } from '../../shared/generated/fslm/v1/TokenLogprob.ts';
import type { RunObserver, StackDefinition, StackRunRequest } from './types.ts';
import { toStageOutput } from './wire.ts';

export interface StreamCall {
  stack: StackDefinition;
  request: StackRunRequest;
  includeUsage: boolean;
  /** Whether the request asked for the final stage's logprobs. */
  logprobs: boolean;
  /** Aborts the run (the request's signal is its signal): the stream ends it on a retry that diverges. */
  abort: AbortController;
  /** Headers every response carries (CORS). */
  headers: Headers;
}

/** Runs the request and streams it to `res`; settles when the response has ended. */
export async function streamCompletion(runner: StackRunner, res: ServerResponse, call: StreamCall): Promise<void> {
  const { stack, request } = call;
  const last = stack.stages[stack.stages.length - 1].name;
  const id = `chatcmpl-${request.requestId}`;
  const created = Math.floor(Date.now() / 1000);
  const pending: string[] = [];
  let committed = false;
  const commit = () => {
    if (committed || res.destroyed) return;
    committed = true;
    res.writeHead(200, { ...call.headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    for (const event of pending.splice(0)) res.write(event);
  };
  const send = (data: string) => {
    if (committed) res.write(`data: ${data}\n\n`);
    else pending.push(`data: ${data}\n\n`);
  };
  const chunk = (choice: Record<string, unknown> | null, extra: Record<string, unknown> = {}) => {
    send(JSON.stringify({ id, object: 'chat.completion.chunk', created, model: stack.name, choices: choice ? [{ index: 0, logprobs: null, finish_reason: null, ...choice }] : [], ...extra }));
  };
  const guard = new RetryTextGuard(last);
  const logprobs = call.logprobs ? new LogprobsStream() : null;
  /** A choice with its logprobs entries (none: no logprobs member, which keeps the default null). */
  const withLogprobs = (choice: Record<string, unknown>, entries: readonly TokenLogprob__Output[]) => (
    entries.length > 0 ? { ...choice, logprobs: toOpenAiLogprobs(entries) } : choice
  );
  const stop = (error: unknown) => call.abort.abort(toFslmError(error));
  chunk({ delta: { role: 'assistant', content: '' } });
  const observer: RunObserver = {
    stageStarted: (e) => chunk({ delta: {} }, { fslm: { event: 'stage_started', stage: e.stage, index: e.index, attempt: e.attempt, replica: e.replica, model: e.model, model_version: e.modelVersion, adapter_version: e.adapterVersion } }),
    stageDelta: (e) => {
      if (call.abort.signal.aborted) return;
      let content = '';
      let entries: TokenLogprob__Output[] = [];
      if (e.stage === last) {
        try {
          content = guard.next(e.attempt, e.delta.text);
        } catch (error) {
          return stop(error);
        }
        if (logprobs) entries = logprobs.next(e.attempt, e.delta.logprobs ?? []);
      }
      commit();
      chunk(withLogprobs({ delta: content ? { content } : {} }, entries), { fslm: { event: 'stage_delta', stage: e.stage, index: e.index, attempt: e.attempt, text: e.delta.text } });
    },
    stageFinished: (outcome) => {
      if (call.abort.signal.aborted) return;
      if (outcome.stage === last) {
        try {
          const rest = guard.finish(outcome.attempts, outcome.text);
          const entries = logprobs ? logprobs.finish(outcome.result.logprobs ?? []) : [];
          if (rest || entries.length > 0) chunk(withLogprobs({ delta: rest ? { content: rest } : {} }, entries));
        } catch (error) {
          return stop(error);
        }
      }
      chunk({ delta: {} }, { fslm: { event: 'stage_finished', output: toStageOutput(outcome) } });
    },
  };
  try {
    const outcome = await runner.run(stack, request, observer);
    // A guard that refused the final text has aborted the run's signal, after the run could end.
    if (call.abort.signal.aborted) throw call.abort.signal.reason;
    commit();
    const lastStage = outcome.stages[outcome.stages.length - 1];
    chunk({ delta: {}, finish_reason: finishReasonOf(lastStage.result.finish_reason) }, { fslm: { event: 'final', ...extensionOf(outcome) } });
    if (call.includeUsage) chunk(null, { usage: usageOf(outcome) });
    res.end('data: [DONE]\n\n');
  } catch (error) {
    if (res.destroyed) return;
    if (!committed) return sendError(res, error, call.headers);
    const { body } = toHttpError(error, failedStageOf(error));
    res.write(`data: ${JSON.stringify({ ...body, fslm: { event: 'error', ...body.fslm } })}\n\n`);
    res.end('data: [DONE]\n\n');
  }
}

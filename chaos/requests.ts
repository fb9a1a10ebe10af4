// One streaming request of the chaos load, over gRPC RunStream or OpenAI HTTP SSE, and how it ended:
// completed (a final answer; over HTTP the streamed content must equal it), failed with a clear status (a
// gRPC status or an HTTP/SSE error with its code), lost (the stream ended without either, or the streamed
// answer was not the answer), or hung (it reached its deadline, or had not ended by deadline +
// HUNG_GRACE_MS, when the load gives up on it).
import type * as grpc from '@grpc/grpc-js';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { RunEvent__Output } from '../services/shared/generated/fslm/v1/RunEvent.ts';
import type { StackServiceClient } from '../services/shared/generated/fslm/v1/StackService.ts';

/** How long past its deadline a request may take to end before it counts as hung (ms). */
export const HUNG_GRACE_MS = 5000;

export type Door = 'grpc' | 'http';

export type Outcome =
  | { kind: 'completed' }
  | { kind: 'failed'; code: string; detail: string }
  | { kind: 'lost'; detail: string }
  | { kind: 'hung'; detail: string };

export interface ChaosRequest {
  input: string;
  requestId: string;
  /** Absolute deadline (epoch ms). */
  deadlineMs: number;
}

/** Classifies a gRPC status: DEADLINE_EXCEEDED means the request ran to its deadline (hung). */
function ofStatus(code: string, detail: string): Outcome {
  return code === 'DEADLINE_EXCEEDED' ? { kind: 'hung', detail: `DEADLINE_EXCEEDED: ${detail}` } : { kind: 'failed', code, detail };
}

/** Runs `request` over RunStream and resolves with how it ended (never rejects). */
export function grpcStreaming(client: StackServiceClient, request: ChaosRequest): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    let final = false;
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      resolve(outcome);
    };
    const call: grpc.ClientReadableStream<RunEvent__Output> = client.RunStream(
      { input: request.input, request_id: request.requestId },
      { deadline: new Date(request.deadlineMs) },
    );
    const watchdog = setTimeout(() => {
      settle({ kind: 'hung', detail: 'no end by deadline + grace' });
      call.cancel();
    }, request.deadlineMs - Date.now() + HUNG_GRACE_MS);
    call.on('data', (event: RunEvent__Output) => {
      if (event.final) final = true;
    });
    call.on('error', (error: grpc.ServiceError) => settle(ofStatus(grpcStatus[error.code] ?? String(error.code), error.details)));
    call.on('end', () => settle(final ? { kind: 'completed' } : { kind: 'lost', detail: 'the stream ended without a final answer or a status' }));
  });
}

/** Runs `request` as a streamed OpenAI chat completion and resolves with how it ended (never rejects). */
export async function httpStreaming(baseUrl: string, model: string, request: ChaosRequest): Promise<Outcome> {
  const abort = new AbortController();
  let hung = false;
  const watchdog = setTimeout(() => {
    hung = true;
    abort.abort();
  }, request.deadlineMs - Date.now() + HUNG_GRACE_MS);
  try {
    const response = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: 'POST', signal: abort.signal,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model, stream: true, messages: [{ role: 'user', content: request.input }],
        fslm: { request_id: request.requestId, timeout_ms: Math.max(1, request.deadlineMs - Date.now()) },
      }),
    });
    if (response.status !== 200) {
      const body = await response.json().catch(() => ({})) as { error?: { code?: string; message?: string } };
      return ofStatus(body.error?.code ?? `HTTP ${response.status}`, `HTTP ${response.status}: ${body.error?.message ?? ''}`);
    }
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body!) text += decoder.decode(chunk as Uint8Array, { stream: true });
    let answer: string | null = null;
    let streamed = '';
    for (const event of text.split('\n\n')) {
      const data = event.replace(/^data: /, '').trim();
      if (!data || data === '[DONE]') continue;
      const parsed = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }>; error?: { message?: string }; fslm?: { event?: string; code?: string; stages?: Array<{ text: string }> } };
      if (parsed.fslm?.event === 'error') return ofStatus(parsed.fslm.code ?? 'UNKNOWN', `SSE error event: ${parsed.error?.message ?? ''}`);
      streamed += parsed.choices?.[0]?.delta?.content ?? '';
      if (parsed.fslm?.event === 'final') answer = parsed.fslm.stages?.at(-1)?.text ?? '';
    }
    if (answer === null || !text.trimEnd().endsWith('data: [DONE]')) return { kind: 'lost', detail: 'the SSE stream ended without a final answer or an error event' };
    // The answer as the client streamed it must be the answer (a retried final stage must not repeat or mix text).
    if (streamed !== answer) {
      let at = 0;
      while (at < streamed.length && streamed[at] === answer[at]) at++;
      const around = (t: string) => JSON.stringify(t.slice(Math.max(0, at - 20), at + 40));
      return { kind: 'lost', detail: `the streamed answer (${streamed.length} chars) differs from the final answer (${answer.length} chars) at ${at}: ${around(streamed)} vs ${around(answer)}` };
    }
    return { kind: 'completed' };
  } catch (error) {
    if (hung) return { kind: 'hung', detail: 'no end by deadline + grace' };
    return { kind: 'lost', detail: `the HTTP stream broke: ${(error as Error).message}` };
  } finally {
    clearTimeout(watchdog);
  }
}

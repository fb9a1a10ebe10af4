// The router's HTTP door: an OpenAI-compatible API (POST /v1/chat/completions, with SSE when
// stream is true; GET /v1/models), Prometheus GET /metrics and GET /healthz. A client that
// disconnects cancels its run.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errors, toFslmError } from '../../shared/errors.ts';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { SHUTDOWN_GRACE_MS } from '../../shared/grpc-serve.ts';
import type { GrpcServerTls } from '../../shared/grpc-tls.ts';
import { httpsServerOptions, reloadOnChange } from '../../shared/https-tls.ts';
import { AnswerStream } from './answer-stream.ts';
import { toHttpError } from './http-status.ts';
import { finishReasonOf, parseChatRequest, toCompletion, toModel, toModelList, usageOf, extensionOf } from './openai-chat.ts';
import { toStackRunRequest } from './run-request.ts';
import { failedStageOf, type StackRunner } from './stack-runner.ts';
import type { RunObserver, StackDefinition } from './types.ts';
import { toStageOutput } from './wire.ts';

export const MAX_BODY_BYTES = 2 << 20;

export interface RouterHttpServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export interface HttpDeps {
  runner: StackRunner;
  stacks: ReadonlyMap<string, StackDefinition>;
  handoff: boolean;
  metricsHandler(request: IncomingMessage, response: ServerResponse): void;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function sendError(res: ServerResponse, error: unknown): void {
  const { status, body } = toHttpError(error);
  if (!res.headersSent) sendJson(res, status, body);
  else res.end();
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw errors.invalidArgument(`the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw errors.invalidArgument('the body is not valid JSON');
  }
}

/** Serves the OpenAI-compatible API on HOST:PORT: plain HTTP, or HTTPS from `tls` (with client certificates when it requires them). */
export async function startRouterHttpServer(deps: HttpDeps, host: string, port: number, tls?: GrpcServerTls): Promise<RouterHttpServer> {
  const created = Math.floor(Date.now() / 1000);
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${url}`;
    if (route === 'GET /metrics') return deps.metricsHandler(req, res);
    if (route === 'GET /healthz') return sendJson(res, 200, { status: 'ok' });
    if (route === 'GET /v1/models') return sendJson(res, 200, toModelList(deps.stacks.values(), created));
    if (req.method === 'GET' && url.startsWith('/v1/models/')) {
      const stack = deps.stacks.get(decodeURIComponent(url.slice('/v1/models/'.length)));
      return stack ? sendJson(res, 200, toModel(stack, created)) : sendError(res, errors.notFound(`no model (stack) named ${url.slice(11)}`));
    }
    if (route === 'POST /v1/chat/completions') return void chatCompletions(deps, req, res).catch((error) => sendError(res, error));
    sendError(res, errors.notFound(`no route ${route}`));
  };
  const server: Server = tls ? createHttpsServer(httpsServerOptions(tls), handler) : createServer(handler);
  const stopReload = tls ? reloadOnChange(server as HttpsServer, tls) : () => undefined;
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    // Responses being written finish (runs in flight were ended first); connections still open after the grace are cut.
    close: () => new Promise<void>((resolve) => {
      stopReload();
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    }),
  };
}

const finalStageOf = (stack: StackDefinition) => stack.stages[stack.stages.length - 1].name;

async function chatCompletions(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chat = parseChatRequest(await readJson(req));
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort(errors.cancelled('the HTTP client disconnected'));
  });
  const headerTimeout = Number(req.headers['x-fslm-timeout-ms']);
  const timeoutMs = chat.timeoutMs ?? (Number.isFinite(headerTimeout) && headerTimeout > 0 ? headerTimeout : null);
  const trace: Record<string, string> = {};
  if (typeof req.headers.traceparent === 'string') trace.traceparent = req.headers.traceparent;
  const { stack, request } = deps.runner.prepare(chat.model, (stack) => toStackRunRequest(stack, {
    input: chat.input, requestId: chat.requestId, params: { [finalStageOf(stack)]: chat.finalParams }, disableHandoff: chat.disableHandoff,
    deadlineMs: timeoutMs === null ? Infinity : Date.now() + timeoutMs, signal: abort.signal, trace,
  }, deps.handoff));
  const last = finalStageOf(stack);
  const created = Math.floor(Date.now() / 1000);
  if (!chat.stream) {
    const outcome = await deps.runner.run(stack, request);
    sendJson(res, 200, toCompletion(outcome, created));
    return;
  }
  const id = `chatcmpl-${request.requestId}`;
  const chunk = (choice: Record<string, unknown> | null, extra: Record<string, unknown> = {}) => {
    const body = { id, object: 'chat.completion.chunk', created, model: stack.name, choices: choice ? [{ index: 0, logprobs: null, finish_reason: null, ...choice }] : [], ...extra };
    res.write(`data: ${JSON.stringify(body)}\n\n`);
  };
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  chunk({ delta: { role: 'assistant', content: '' } });
  // A retried final stage must not send the answer twice.
  const answer = new AnswerStream();
  const observer: RunObserver = {
    stageStarted: (e) => chunk({ delta: {} }, { fslm: { event: 'stage_started', stage: e.stage, index: e.index, attempt: e.attempt, replica: e.replica, model: e.model, model_version: e.modelVersion } }),
    stageDelta: (e) => {
      const final = e.stage === last;
      let content = '';
      if (final) {
        try {
          content = answer.push(e.attempt, e.delta.text);
        } catch (error) {
          abort.abort(error);
          return;
        }
      }
      chunk({ delta: final ? { content } : {} }, { fslm: { event: 'stage_delta', stage: e.stage, index: e.index, attempt: e.attempt, text: e.delta.text } });
    },
    stageFinished: (outcome) => chunk({ delta: {} }, { fslm: { event: 'stage_finished', output: toStageOutput(outcome) } }),
  };
  try {
    const outcome = await deps.runner.run(stack, request, observer);
    const lastStage = outcome.stages[outcome.stages.length - 1];
    const rest = answer.finish(lastStage.text);
    if (rest) chunk({ delta: { content: rest } });
    chunk({ delta: {}, finish_reason: finishReasonOf(lastStage.result.finish_reason) }, { fslm: { event: 'final', ...extensionOf(outcome) } });
    if (chat.includeUsage) chunk(null, { usage: usageOf(outcome) });
    res.end('data: [DONE]\n\n');
  } catch (error) {
    if (abort.signal.aborted && res.destroyed) return;
    const { body } = toHttpError(error);
    res.end(`data: ${JSON.stringify({ ...body, fslm: { event: 'error', code: toFslmError(error).code, stage: failedStageOf(error) } })}\n\n`);
  }
}

// The router's HTTP door: an OpenAI-compatible API (POST /v1/chat/completions, with SSE when stream
// is true; GET /v1/models and /v1/models/{id}), Prometheus GET /metrics and GET /healthz. HEAD is
// answered wherever GET is, OPTIONS (CORS preflight) on every route, 405 with Allow for other methods.
// A client that disconnects cancels its run. Closing the door drains it: no new request is taken, the
// requests in flight get a grace period to finish, then end with UNAVAILABLE (an HTTP 503, or an error
// event and `[DONE]` on a stream that has begun), never a cut connection.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { errors } from '../../shared/errors.ts';
import { SHUTDOWN_GRACE_MS } from '../../shared/grpc-serve.ts';
import type { GrpcServerTls } from '../../shared/grpc-tls.ts';
import { httpsServerOptions, reloadOnChange } from '../../shared/https-tls.ts';
import { CorsPolicy } from './cors.ts';
import { readJsonBody } from './http-body.ts';
import { sendError, sendJson, type Headers } from './http-send.ts';
import { parseChatRequest, timeoutOf } from './openai-chat.ts';
import { toCompletion, toModel, toModelList } from './openai-response.ts';
import { streamCompletion } from './openai-stream.ts';
import { requestErrors } from './request-errors.ts';
import { toStackRunRequest } from './run-request.ts';
import { within } from './shutdown.ts';
import type { StackRunner } from './stack-runner.ts';
import type { StackDefinition } from './types.ts';

/** How long a request's headers, and the whole request with its body, may take to arrive (then 408). */
export const HEADERS_RECEIVE_TIMEOUT_MS = 10_000;
export const REQUEST_RECEIVE_TIMEOUT_MS = 30_000;

/** How long requests ended by a closing door get to write their error before the connections are cut. */
const CLOSE_WRITE_MS = 1000;

export interface RouterHttpServer {
  server: Server;
  port: number;
  /**
   * Stops taking requests (new ones get 503), lets those in flight finish for `graceMs` (default
   * SHUTDOWN_GRACE_MS, like the gRPC door), ends the rest with UNAVAILABLE, then closes every connection.
   */
  close(graceMs?: number): Promise<void>;
}

export interface HttpDeps {
  runner: StackRunner;
  stacks: ReadonlyMap<string, StackDefinition>;
  handoff: boolean;
  /** Browser origins allowed to call the door (empty: CORS off). */
  corsOrigins?: readonly string[];
  metricsHandler(request: IncomingMessage, response: ServerResponse): void;
}

type Handler = (req: IncomingMessage, res: ServerResponse, headers: Headers, path: string) => void;

/** Serves the OpenAI-compatible API on HOST:PORT: plain HTTP, or HTTPS from `tls` (with client certificates when it requires them). */
export async function startRouterHttpServer(deps: HttpDeps, host: string, port: number, tls?: GrpcServerTls): Promise<RouterHttpServer> {
  const created = Math.floor(Date.now() / 1000);
  const cors = new CorsPolicy(deps.corsOrigins ?? []);
  /** The runs of the requests in flight (aborted when the door closes), and the handlers still working. */
  const inFlight = new Set<AbortController>();
  const working = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    working.add(work);
    void work.finally(() => working.delete(work));
  };
  let closing = false;
  const models: Handler = (_req, res, headers) => sendJson(res, 200, toModelList(deps.stacks.values(), created), headers);
  const model: Handler = (_req, res, headers, path) => {
    try {
      let name: string;
      try {
        name = decodeURIComponent(path.slice('/v1/models/'.length));
      } catch {
        throw requestErrors.invalidValue('model', 'the model in the path is not a valid URL-encoded name');
      }
      sendJson(res, 200, toModel(deps.runner.resolve(name, 'model'), created), headers);
    } catch (error) {
      sendError(res, error, headers);
    }
  };
  const routes: Array<{ match(path: string): boolean; methods: Record<string, Handler> }> = [
    { match: (p) => p === '/metrics', methods: { GET: (req, res) => deps.metricsHandler(req, res) } },
    { match: (p) => p === '/healthz', methods: { GET: (_req, res, headers) => sendJson(res, 200, { status: 'ok' }, headers) } },
    { match: (p) => p === '/v1/models', methods: { GET: models } },
    { match: (p) => p.startsWith('/v1/models/') && p.length > '/v1/models/'.length, methods: { GET: model } },
    { match: (p) => p === '/v1/chat/completions', methods: { POST: (req, res, headers) => track(chatCompletions(deps, req, res, headers, inFlight).catch((error) => sendError(res, error, headers))) } },
  ];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const headers = cors.headers(req.headers.origin);
    if (closing) return sendError(res, errors.unavailable('the router is shutting down'), { ...headers, connection: 'close' });
    const route = routes.find((r) => r.match(path));
    if (!route) return sendError(res, errors.notFound(`no route ${req.method} ${path}`), headers);
    const allow = [...Object.keys(route.methods), ...('GET' in route.methods ? ['HEAD'] : []), 'OPTIONS'].join(', ');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors.preflight(req.headers.origin, req.headers['access-control-request-headers']), allow }).end();
      return;
    }
    // HEAD is answered as GET; Node sends the headers without the body.
    const method = req.method === 'HEAD' ? 'GET' : req.method ?? '';
    const handler = Object.hasOwn(route.methods, method) ? route.methods[method] : undefined;
    if (!handler) {
      const error = { message: `${req.method} is not allowed on ${path}; allowed: ${allow}`, type: 'invalid_request_error', param: null, code: 'method_not_allowed' };
      return sendJson(res, 405, { error }, { ...headers, allow });
    }
    handler(req, res, headers, path);
  };
  // A request (headers and body) must arrive within its bounds: a client trickling it (slow loris) gets 408.
  const bounds = { requestTimeout: REQUEST_RECEIVE_TIMEOUT_MS, headersTimeout: HEADERS_RECEIVE_TIMEOUT_MS, connectionsCheckingInterval: 1000 };
  const server: Server = tls ? createHttpsServer({ ...httpsServerOptions(tls), ...bounds }, handle) : createServer(bounds, handle);
  const stopReload = tls ? reloadOnChange(server as HttpsServer, tls) : () => undefined;
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    close: async (graceMs = SHUTDOWN_GRACE_MS) => {
      closing = true;
      stopReload();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (!(await within(Promise.allSettled([...working]), graceMs))) {
        for (const abort of inFlight) abort.abort(errors.unavailable('the router is shutting down'));
        await within(Promise.allSettled([...working]), CLOSE_WRITE_MS);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

const finalStageOf = (stack: StackDefinition) => stack.stages[stack.stages.length - 1].name;

/** The deadline a request sets: fslm.timeout_ms in the body, else the x-fslm-timeout-ms header, from `now`; Infinity for none. */
function deadlineOf(bodyTimeoutMs: number | null, header: string | string[] | undefined, now: number): number {
  if (bodyTimeoutMs !== null) return now + bodyTimeoutMs;
  if (header === undefined) return Infinity;
  const raw = Array.isArray(header) ? header[0] : header;
  // Decimal milliseconds only: Number() would also read "0x10", "0b11", "1e3" or "Infinity".
  if (!/^\s*\d+(\.\d+)?\s*$/.test(raw)) throw requestErrors.invalidValue('x-fslm-timeout-ms', `expected a decimal number of milliseconds, got ${JSON.stringify(raw)}`);
  return now + timeoutOf(Number(raw), 'x-fslm-timeout-ms');
}

async function chatCompletions(deps: HttpDeps, req: IncomingMessage, res: ServerResponse, headers: Headers, inFlight: Set<AbortController>): Promise<void> {
  const now = Date.now();
  const abort = new AbortController();
  inFlight.add(abort);
  res.on('close', () => {
    inFlight.delete(abort);
    if (!res.writableFinished) abort.abort(errors.cancelled('the HTTP client disconnected'));
  });
  const body = await readJsonBody(req).catch((error) => {
    // A body refused before it was read to its end leaves the connection unusable: close it after the answer.
    if (!req.complete) res.setHeader('connection', 'close');
    return deps.runner.refused(undefined, error);
  });
  let chat;
  try {
    chat = parseChatRequest(body);
  } catch (error) {
    deps.runner.refused((body as { model?: unknown } | null)?.model, error);
  }
  const deadlineMs = deadlineOf(chat.timeoutMs, req.headers['x-fslm-timeout-ms'], now);
  const trace: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const value = req.headers[key];
    if (typeof value === 'string') trace[key] = value;
  }
  const { stack, request } = deps.runner.prepare(chat.model, (stack) => toStackRunRequest(stack, {
    input: chat.input, requestId: chat.requestId, params: { [finalStageOf(stack)]: chat.finalParams }, fields: chat.fields,
    disableHandoff: chat.disableHandoff, deadlineMs, signal: abort.signal, trace,
  }, deps.handoff), 'model');
  if (chat.stream) return streamCompletion(deps.runner, res, { stack, request, includeUsage: chat.includeUsage, logprobs: chat.finalParams.logprobs === true, abort, headers });
  const outcome = await deps.runner.run(stack, request);
  sendJson(res, 200, toCompletion(outcome, Math.floor(now / 1000), chat.finalParams.logprobs === true), headers);
}

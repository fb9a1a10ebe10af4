// The router's HTTP door: an OpenAI-compatible API (POST /v1/chat/completions, with SSE when stream
// is true; GET /v1/models and /v1/models/{id}), Prometheus GET /metrics and GET /healthz. HEAD is
// answered wherever GET is, OPTIONS (CORS preflight) on every route, 405 with Allow for other methods.
// A client that disconnects cancels its run.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errors } from '../../shared/errors.ts';
import { CorsPolicy } from './cors.ts';
import { sendError, sendJson, type Headers } from './http-send.ts';
import { parseChatRequest, timeoutOf } from './openai-chat.ts';
import { toCompletion, toModel, toModelList } from './openai-response.ts';
import { streamCompletion } from './openai-stream.ts';
import { requestErrors } from './request-errors.ts';
import { toStackRunRequest } from './run-request.ts';
import type { StackRunner } from './stack-runner.ts';
import type { StackDefinition } from './types.ts';

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
  /** Browser origins allowed to call the door (empty: CORS off). */
  corsOrigins?: readonly string[];
  metricsHandler(request: IncomingMessage, response: ServerResponse): void;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw requestErrors.invalidBody(`the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw requestErrors.invalidBody('the body is not valid JSON');
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse, headers: Headers, path: string) => void;

export async function startRouterHttpServer(deps: HttpDeps, host: string, port: number): Promise<RouterHttpServer> {
  const created = Math.floor(Date.now() / 1000);
  const cors = new CorsPolicy(deps.corsOrigins ?? []);
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
    { match: (p) => p === '/v1/chat/completions', methods: { POST: (req, res, headers) => void chatCompletions(deps, req, res, headers).catch((error) => sendError(res, error, headers)) } },
  ];
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const headers = cors.headers(req.headers.origin);
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
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

const finalStageOf = (stack: StackDefinition) => stack.stages[stack.stages.length - 1].name;

/** The deadline a request sets: fslm.timeout_ms in the body, else the x-fslm-timeout-ms header, from `now`; Infinity for none. */
function deadlineOf(bodyTimeoutMs: number | null, header: string | string[] | undefined, now: number): number {
  if (bodyTimeoutMs !== null) return now + bodyTimeoutMs;
  if (header === undefined) return Infinity;
  const raw = Array.isArray(header) ? header[0] : header;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw requestErrors.invalidValue('x-fslm-timeout-ms', `expected a number of milliseconds, got ${JSON.stringify(raw)}`);
  return now + timeoutOf(value, 'x-fslm-timeout-ms');
}

async function chatCompletions(deps: HttpDeps, req: IncomingMessage, res: ServerResponse, headers: Headers): Promise<void> {
  const now = Date.now();
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort(errors.cancelled('the HTTP client disconnected'));
  });
  const body = await readJson(req).catch((error) => deps.runner.refused(undefined, error));
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
  if (chat.stream) return streamCompletion(deps.runner, res, { stack, request, includeUsage: chat.includeUsage, abort, headers });
  const outcome = await deps.runner.run(stack, request);
  sendJson(res, 200, toCompletion(outcome, Math.floor(now / 1000)), headers);
}

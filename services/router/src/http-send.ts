// Writing JSON and error responses on the HTTP door.
import type { ServerResponse } from 'node:http';
import { toHttpError } from './http-status.ts';
import { failedStageOf } from './stack-run.ts';

/** Extra response headers (CORS). */
export type Headers = Record<string, string>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** An error as its HTTP status and OpenAI body (naming the stage that failed, if one did); a response already under way is just ended. */
export function sendError(res: ServerResponse, error: unknown, headers: Headers = {}): void {
  const { status, body } = toHttpError(error, failedStageOf(error));
  if (!res.headersSent) sendJson(res, status, body, headers);
  else res.end();
}

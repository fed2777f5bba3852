// How handlers answer: errors as {error: {code, message, ...}} with their status (and
// Retry-After on 503), and async handlers whose failures reach the error middleware.
//
// Handlers read requests and write answers through two narrow interfaces, which Express's objects
// satisfy and so do the fast path's (fast-path.ts): the same handler serves a request either way.
import type { Context } from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';
import { LIMITS } from '../kv/commands.js';
import { ClientError } from '../node/errors.js';

/** What a handler reads of a request. */
export interface ApiRequest {
  readonly params: Record<string, string | string[]>;
  readonly query: Record<string, unknown>;
  readonly body: unknown;
  header(name: string): string | undefined;
  /** The request's trace context (its SERVER span), for what the handler asks of the node: no
   *  context crosses an await by itself (telemetry/context-manager.ts). Absent when not traced. */
  readonly traceContext?: Context;
}

// Express's requests carry it too (set in app.ts, after the span middleware).
declare module 'express-serve-static-core' {
  interface Request {
    traceContext?: Context;
  }
}

/** What a handler does with its answer. */
export interface ApiResponse {
  setHeader(name: string, value: string | number): unknown;
  getHeader(name: string): unknown;
  status(code: number): ApiResponse;
  json(body: unknown): unknown;
}

export function sendError(res: ApiResponse, e: ClientError): void {
  if (e.status === 503) res.setHeader('Retry-After', '1');
  res.status(e.status).json({ error: { code: e.code, message: e.message, ...e.extra } });
}

export function handle(fn: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch(next);
  };
}

/** Answers whatever a request's handling threw: body-parser's failures and anything a handler threw.
 *  A client's mistake is a 4xx with the documented error shape, never a 500; anything else is
 *  logged and answered 500 without its details. */
export function sendFailure(res: ApiResponse, err: unknown, logError: (message: string) => void): void {
  const e = err as { type?: string; status?: number; message?: string };
  if (err instanceof URIError)
    return sendError(res, new ClientError('bad_path', `the path is not valid percent-encoded UTF-8: ${e.message}`));
  if (e.type === 'charset.unsupported')
    return sendError(res, new ClientError('unsupported_charset', `${e.message}; send UTF-8 JSON`));
  if (e.type === 'encoding.unsupported')
    return sendError(
      res,
      new ClientError('unsupported_encoding', `${e.message}; send the body uncompressed, gzip or deflate`),
    );
  if (e.type === 'entity.parse.failed')
    return sendError(res, new ClientError('bad_json', `the body is not valid JSON: ${e.message}`));
  if (e.type === 'entity.too.large')
    return sendError(res, new ClientError('body_too_large', `the body is larger than ${LIMITS.bodyBytes} bytes`));
  if (err instanceof ClientError) return sendError(res, err);
  // Anything else the request itself caused (a body that is not what its Content-Encoding says,
  // a Content-Length that lies, an aborted upload): http-errors mark those 4xx, and body-parser's
  // JSON parser gives them 400 (the other 4xx it knows are typed above).
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
    return sendError(res, new ClientError('bad_request', e.message ?? 'bad request'));
  logError(e.message ?? String(err));
  sendError(res, new ClientError('internal', 'internal error; the node logged the details'));
}

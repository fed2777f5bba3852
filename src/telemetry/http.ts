// HTTP spans, following the HTTP semantic conventions: a SERVER span for each client request
// (continuing the caller's trace when it sends traceparent). A write a follower forwards to the
// leader is an RPC, raft.Raft/Forward, with spans of its own (forward-spans.ts).
//
// Status, as the HTTP conventions say: a SERVER span is an error on 5xx (a 4xx is the client's
// mistake), and when the connection closed before the response was sent (the client gave up: for a
// write, its outcome is unknown to the client, which is what a learner wants to find).
//
// The request's context (its SERVER span) is handed to `next`: the handler passes it on to what it
// asks of the node, across its awaits (the context manager carries nothing across one:
// context-manager.ts).
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { TraceKind } from './config.js';
import { ATTR } from './names.js';
import { SEMCONV, tracer } from './semconv.js';

/** The route template of a path, for span names ("PUT /kv/{key}"). */
function route(path: string): string | null {
  if (/^\/kv\/[^/]+\/cas$/.test(path)) return '/kv/{key}/cas';
  if (/^\/kv\/[^/]+$/.test(path)) return '/kv/{key}';
  const lock = /^\/locks\/[^/]+(\/(acquire|renew|release))?$/.exec(path);
  if (lock) return `/locks/{name}${lock[1] ?? ''}`;
  if (path.startsWith('/admin/')) return path;
  return null; // /status and unknown paths are not traced: `up` polls /status all the time
}

/** Opens the request's SERVER span (when its route is traced) and calls `then` with its context.
 *  Not an Express middleware as it stands: Express would take the context given to its `next` for
 *  an error (app.ts wraps it). */
export function httpServerSpans(
  nodeId: string,
  enabled: boolean,
  accessLog?: (fields: Record<string, unknown>) => void,
) {
  // What it reads of a request: Express's has it, and so does the API's fast path (api/fast-path.ts).
  return (
    req: { method: string; path: string; headers: IncomingHttpHeaders },
    res: ServerResponse,
    then: (ctx: Context) => void,
  ) => {
    const r = enabled ? route(req.path) : null;
    if (!r || (r.startsWith('/admin') && req.method === 'GET')) return then(ROOT_CONTEXT);
    const kind: TraceKind = r.startsWith('/admin') ? 'admin' : req.method === 'GET' ? 'read' : 'write';
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      `${req.method} ${r}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [SEMCONV.httpRequestMethod]: req.method,
          [SEMCONV.httpRoute]: r,
          [SEMCONV.urlPath]: req.path,
          [ATTR.nodeId]: nodeId,
          [ATTR.traceKind]: kind,
          ...(req.headers['x-raft-forwarded-by']
            ? { 'raft.forwarded_by': String(req.headers['x-raft-forwarded-by']) }
            : {}),
        },
      },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (res.writableFinished) {
        span.setAttribute(SEMCONV.httpResponseStatusCode, res.statusCode);
        const leader = res.getHeader('x-raft-leader');
        if (leader) span.setAttribute(ATTR.leaderId, String(leader));
        if (res.statusCode >= 500) {
          span.setAttribute(SEMCONV.errorType, String(res.statusCode));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      } else {
        // 'close' before 'finish': the client went away (or the socket broke) before the answer.
        span.setAttribute(SEMCONV.errorType, 'aborted');
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: 'the connection closed before the response was sent: the client does not know the outcome',
        });
      }
      span.end();
      const sc = span.spanContext();
      accessLog?.({
        method: req.method,
        route: r,
        status: res.writableFinished ? res.statusCode : 'aborted',
        ...(sc.traceFlags & 1 ? { trace_id: sc.traceId, span_id: sc.spanId } : {}),
      });
    };
    res.once('finish', end);
    res.once('close', end);
    // The trace id in a response header lets a client (and a learner) find its trace.
    const sc = span.spanContext();
    if (sc.traceFlags & 1) res.setHeader('X-Trace-Id', sc.traceId);
    const ctx = trace.setSpan(parent, span);
    context.with(ctx, () => then(ctx));
  };
}

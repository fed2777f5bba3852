// HTTP spans, following the HTTP semantic conventions: a SERVER span for each client request
// (continuing the caller's trace when it sends traceparent), and a CLIENT span around a write a
// follower forwards to the leader, whose traceparent makes the leader's SERVER span its child.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';
import type { TraceKind } from './config.js';
import { ATTR } from './names.js';

const tracer = () => trace.getTracer('raft-otel');

/** The route template of a path, for span names ("PUT /kv/{key}"). */
function route(path: string): string | null {
  if (/^\/kv\/[^/]+\/cas$/.test(path)) return '/kv/{key}/cas';
  if (/^\/kv\/[^/]+$/.test(path)) return '/kv/{key}';
  const lock = /^\/locks\/[^/]+(\/(acquire|renew|release))?$/.exec(path);
  if (lock) return `/locks/{name}${lock[1] ?? ''}`;
  if (path.startsWith('/admin/')) return path;
  return null; // /status and unknown paths are not traced: `up` polls /status all the time
}

export function httpServerSpans(
  nodeId: string,
  enabled: boolean,
  accessLog?: (fields: Record<string, unknown>) => void,
) {
  return (req: Request, res: Response, next: NextFunction) => {
    const r = enabled ? route(req.path) : null;
    if (!r || (r.startsWith('/admin') && req.method === 'GET')) return next();
    const kind: TraceKind = r.startsWith('/admin') ? 'admin' : req.method === 'GET' ? 'read' : 'write';
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      `${req.method} ${r}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method,
          'http.route': r,
          'url.path': req.path,
          [ATTR.nodeId]: nodeId,
          [ATTR.traceKind]: kind,
          ...(req.headers['x-raft-forwarded-by']
            ? { 'raft.forwarded_by': String(req.headers['x-raft-forwarded-by']) }
            : {}),
        },
      },
      parent,
    );
    res.on('finish', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      const leader = res.getHeader('x-raft-leader');
      if (leader) span.setAttribute(ATTR.leaderId, String(leader));
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${res.statusCode}` });
      span.end();
      const sc = span.spanContext();
      accessLog?.({
        method: req.method,
        route: r,
        status: res.statusCode,
        ...(sc.traceFlags & 1 ? { trace_id: sc.traceId, span_id: sc.spanId } : {}),
      });
    });
    // The trace id in a response header lets a client (and a learner) find its trace.
    const sc = span.spanContext();
    if (sc.traceFlags & 1) res.setHeader('X-Trace-Id', sc.traceId);
    context.with(trace.setSpan(parent, span), next);
  };
}

/** Runs a forwarded request inside an HTTP CLIENT span whose traceparent goes into `headers`. */
export async function withClientSpan<T>(
  method: string,
  url: string,
  headers: Record<string, string>,
  run: () => Promise<T>,
  status: (r: T) => number,
): Promise<T> {
  const span = tracer().startSpan(`${method}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'http.request.method': method, 'url.full': url },
  });
  const ctx = trace.setSpan(context.active(), span);
  propagation.inject(ctx, headers);
  try {
    const r = await context.with(ctx, run);
    span.setAttribute('http.response.status_code', status(r));
    return r;
  } catch (e) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
    throw e;
  } finally {
    span.end();
  }
}

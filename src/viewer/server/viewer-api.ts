// The page's own API over the store (the control endpoint, the cluster view and the stream have
// their own modules):
//   GET  /api/viewer/spans?start=&end=&limit=     {spans: FlatSpan[], truncated} in a window (ms epoch)
//   GET  /api/viewer/timeline?start=&end=&limit=  the same window in the timeline's compact form
//                                                (src/traces/timeline-span.ts), what the page draws from
//   GET  /api/viewer/search?kind=&node=&term=&key=&error=true&minDurationMs=&start=&end=&limit=
//                                                TraceSummary[], newest first
//   GET  /api/viewer/traces/{id}                  FlatSpan[] (404 when unknown)
//   GET  /api/viewer/export?traceId=…|start=&end= OTLP JSON, as a download Jaeger's Upload opens
//   POST /api/viewer/import                       an OTLP JSON document or JSON lines -> {spans, traces, added}
//   GET  /api/viewer/stats                        {spans, traces, bytes, evictedTraces, evictedSpans, caps, ...}
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRACE_KINDS } from '../../traces/kinds.js';
import { normalizeId, OtlpError, toOtlp, type FlatSpan } from '../../traces/otlp.js';
import { parseTraceText } from '../../traces/documents.js';
import { HttpError, numberParam, readBody, sendJson, sendJsonText } from './http-util.js';
import type { Ingest } from './ingest.js';
import { encodeTimeline } from '../../traces/timeline-span.js';
import type { SpanStore, TraceSummary } from './store.js';

/** The most spans one window answer carries (the page asks for narrower windows past it). */
export const MAX_WINDOW_SPANS = 50_000;
const DEFAULT_WINDOW_MS = 5 * 60_000;

/** The last timeline answer each store gave, serialized: a page reloaded, a second tab or the
 *  benchmark's runs ask the same window again, and nothing changed unless the store's version moved. */
const timelineCache = new WeakMap<SpanStore, { key: string; body: string }>();

function timelineBody(store: SpanStore, start: number, end: number, limit: number): string {
  const key = `${start}/${end}/${limit}/${store.version}`;
  const hit = timelineCache.get(store);
  if (hit?.key === key) return hit.body;
  const { spans, truncated } = store.spansIn(start, end, limit);
  const body = JSON.stringify(encodeTimeline(spans, truncated));
  timelineCache.set(store, { key, body });
  return body;
}

function windowLimit(q: URLSearchParams): number {
  return Math.min(Math.max(1, numberParam(q, 'limit') ?? MAX_WINDOW_SPANS), MAX_WINDOW_SPANS);
}

function traceIdParam(text: string): string {
  try {
    return normalizeId(text, 16, 'trace id');
  } catch (e) {
    throw new HttpError(400, 'bad_trace_id', (e as Error).message);
  }
}

function windowOf(q: URLSearchParams): { start: number; end: number } {
  const end = numberParam(q, 'end') ?? Date.now();
  const start = numberParam(q, 'start') ?? end - DEFAULT_WINDOW_MS;
  if (start > end) throw new HttpError(400, 'bad_window', `start (${start}) is after end (${end})`);
  return { start, end };
}

export function search(ingest: Ingest, q: URLSearchParams): TraceSummary[] {
  const store = ingest.store;
  const kind = q.get('kind') || undefined;
  if (kind && !(TRACE_KINDS as readonly string[]).includes(kind))
    throw new HttpError(400, 'bad_kind', `kind=${kind}: one of ${TRACE_KINDS.join(', ')}`);
  const node = q.get('node') || undefined;
  const term = numberParam(q, 'term');
  const key = q.get('key') || undefined;
  const errorOnly = q.get('error') === 'true';
  const minDuration = numberParam(q, 'minDurationMs');
  const start = numberParam(q, 'start');
  const end = numberParam(q, 'end');
  const limit = Math.min(Math.max(1, numberParam(q, 'limit') ?? 100), 1000);
  const out: TraceSummary[] = [];
  for (const id of store.traceIdsNewestFirst()) {
    const s = store.summary(id);
    if (!s) continue;
    if (kind && s.kind !== kind) continue;
    if (node && !s.nodes.includes(node)) continue;
    if (term !== undefined && s.term !== term) continue;
    if (key !== undefined && s.key !== key) continue;
    if (errorOnly && !s.error) continue;
    if (minDuration !== undefined && s.durationMs < minDuration) continue;
    if (start !== undefined && s.startMs + s.durationMs < start) continue;
    if (end !== undefined && s.startMs > end) continue;
    out.push(s);
    if (out.length >= limit) break;
  }
  return out.sort((a, b) => b.startMs - a.startMs);
}

export interface ViewerApiOptions {
  importCap: number;
  extraStats: () => Record<string, unknown>;
}

/** Answers a request under /api/viewer/ that this module owns; false when the route is not one. */
export async function handleViewerApi(
  ingest: Ingest,
  opts: ViewerApiOptions,
  req: IncomingMessage,
  path: string,
  q: URLSearchParams,
  res: ServerResponse,
): Promise<boolean> {
  const store = ingest.store;
  const method = req.method ?? 'GET';
  if (method === 'GET' && path === '/api/viewer/spans') {
    const { start, end } = windowOf(q);
    sendJson(res, 200, store.spansIn(start, end, windowLimit(q)));
    return true;
  }
  if (method === 'GET' && path === '/api/viewer/timeline') {
    const { start, end } = windowOf(q);
    sendJsonText(res, 200, timelineBody(store, start, end, windowLimit(q)));
    return true;
  }
  if (method === 'GET' && path === '/api/viewer/search') {
    sendJson(res, 200, search(ingest, q));
    return true;
  }
  const m = /^\/api\/viewer\/traces\/([^/]+)$/.exec(path);
  if (method === 'GET' && m) {
    const id = traceIdParam(decodeURIComponent(m[1]));
    const spans = store.trace(id);
    if (!spans) throw new HttpError(404, 'trace_not_found', `no trace ${id} here (never received, or evicted)`);
    sendJson(res, 200, spans);
    return true;
  }
  if (method === 'GET' && path === '/api/viewer/export') {
    let spans: FlatSpan[];
    let name: string;
    const traceId = q.get('traceId');
    if (traceId) {
      const id = traceIdParam(traceId);
      const found = store.trace(id);
      if (!found) throw new HttpError(404, 'trace_not_found', `no trace ${id} here (never received, or evicted)`);
      spans = found;
      name = `trace-${id}.json`;
    } else {
      const { start, end } = windowOf(q);
      // Whole traces: every trace with a span in the window, with all its spans.
      const ids = new Set(store.spansIn(start, end, Number.MAX_SAFE_INTEGER).spans.map((s) => s.traceId));
      spans = [...ids].flatMap((id) => store.trace(id) ?? []);
      name = `traces-${new Date(start).toISOString().replace(/[:.]/g, '-')}.json`;
    }
    sendJson(res, 200, toOtlp(spans), { 'content-disposition': `attachment; filename="${name}"` });
    return true;
  }
  if (method === 'POST' && path === '/api/viewer/import') {
    const body = await readBody(req, opts.importCap);
    let spans: FlatSpan[];
    try {
      spans = parseTraceText(body.toString('utf8'));
    } catch (e) {
      if (e instanceof OtlpError) throw new HttpError(400, 'bad_trace_file', e.message);
      throw e;
    }
    const added = await ingest.add(spans);
    // spans and traces the file holds; `added`: how many spans were new here (a re-import adds none)
    sendJson(res, 200, {
      spans: spans.length,
      traces: new Set(spans.map((s) => s.traceId)).size,
      added: added.length,
    });
    return true;
  }
  if (method === 'GET' && path === '/api/viewer/stats') {
    sendJson(res, 200, { ...store.stats(), ...opts.extraStats() });
    return true;
  }
  return false;
}

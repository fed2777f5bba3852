// Jaeger v2's /api/v3 HTTP API, answered from the viewer's store with the same parameters and
// shapes as Jaeger's own gateway (cmd/jaeger/internal/extension/jaegerquery/internal/apiv3 in
// jaegertracing/jaeger: http_gateway.go and query_parser.go), so a script or an exercise check
// works unchanged against either:
//   GET /api/v3/services                      {"services": [...]}
//   GET /api/v3/operations?service=&spanKind= {"operations": [{"name", "spanKind"}]}  (span_kind too)
//   GET /api/v3/traces?query.serviceName=&query.operationName=&query.startTimeMin=&query.startTimeMax=
//       &query.searchDepth=&query.durationMin=&query.durationMax=&query.attributes={"k":"v"}
//       (the snake_case spellings and query.num_traces are accepted too, as Jaeger accepts them)
//   GET /api/v3/traces/{trace_id}             hex or base64 id
// Traces are OTLP JSON under "result" (every trace's resourceSpans in one list). Errors are what
// Go's http.Error writes: text/plain, {"error":{"httpCode":N,"message":"..."}} and a newline; a
// search or id that finds nothing is 404 "No traces found".
import type { ServerResponse } from 'node:http';
import { normalizeId, OtlpError, toOtlp, type FlatSpan, type ResourceSpans } from '../../traces/otlp.js';
import { sendJson } from './http-util.js';
import type { SpanStore } from './store.js';

const DEFAULT_SEARCH_DEPTH = 100;

function jaegerError(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: { httpCode: status, message } }) + '\n';
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

class BadParam extends Error {}

function param(q: URLSearchParams, canonical: string, deprecated: string): [string, string] {
  const v = q.get(canonical);
  if (v) return [v, canonical];
  return [q.get(deprecated) ?? '', deprecated];
}

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration ("1.5s", "300ms", "1h2m"), in milliseconds. */
export function parseGoDuration(text: string): number {
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(text);
  if (text === '0') return 0;
  if (!m) throw new BadParam(`time: invalid duration "${text}"`);
  let ms = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g))
    ms += Number(part[1]) * UNITS[part[2]];
  return m[1] === '-' ? -ms : ms;
}

/** RFC 3339 with optional fractional seconds, as Go's time.RFC3339Nano parses it; ms since the epoch. */
function parseTime(text: string, name: string): number {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(text))
    throw new BadParam(`malformed parameter ${name}: parsing time "${text}" as RFC 3339`);
  const frac = /\.(\d+)/.exec(text)?.[1] ?? '';
  const base = Date.parse(text.replace(/\.\d+/, ''));
  if (Number.isNaN(base)) throw new BadParam(`malformed parameter ${name}: parsing time "${text}" as RFC 3339`);
  return base + (frac ? Number(`0.${frac}`) * 1000 : 0);
}

export interface FindQuery {
  service: string;
  operation: string;
  startMin: number;
  startMax: number;
  searchDepth: number;
  durationMinMs?: number;
  durationMaxMs?: number;
  attributes: Record<string, string>;
}

export function parseFindQuery(q: URLSearchParams): FindQuery {
  const [service] = param(q, 'query.serviceName', 'query.service_name');
  const [operation] = param(q, 'query.operationName', 'query.operation_name');
  let attributes: Record<string, string> = {};
  const attrs = q.get('query.attributes');
  if (attrs) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(attrs);
    } catch (e) {
      throw new BadParam(`malformed parameter query.attributes: ${(e as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new BadParam('malformed parameter query.attributes: expected a JSON object of strings');
    for (const v of Object.values(parsed))
      if (typeof v !== 'string')
        throw new BadParam('malformed parameter query.attributes: expected a JSON object of strings');
    attributes = parsed as Record<string, string>;
  }
  const [minText, minName] = param(q, 'query.startTimeMin', 'query.start_time_min');
  const [maxText, maxName] = param(q, 'query.startTimeMax', 'query.start_time_max');
  if (!minText || !maxText) throw new BadParam('query.startTimeMin and query.startTimeMax are required');
  const startMin = parseTime(minText, minName);
  const startMax = parseTime(maxText, maxName);
  if (!(startMin < startMax)) throw new BadParam('query.startTimeMin must be before query.startTimeMax');
  let [depthText, depthName] = param(q, 'query.searchDepth', 'query.search_depth');
  if (!depthText) [depthText, depthName] = [q.get('query.num_traces') ?? '', 'query.num_traces'];
  let searchDepth = DEFAULT_SEARCH_DEPTH;
  if (depthText) {
    if (!/^[-+]?\d+$/.test(depthText))
      throw new BadParam(`malformed parameter ${depthName}: strconv.Atoi: parsing "${depthText}": invalid syntax`);
    searchDepth = Number(depthText);
  }
  const out: FindQuery = { service, operation, startMin, startMax, searchDepth, attributes };
  const [dMin, dMinName] = param(q, 'query.durationMin', 'query.duration_min');
  const [dMax, dMaxName] = param(q, 'query.durationMax', 'query.duration_max');
  try {
    if (dMin) out.durationMinMs = parseGoDuration(dMin);
  } catch (e) {
    throw new BadParam(`malformed parameter ${dMinName}: ${(e as Error).message}`);
  }
  try {
    if (dMax) out.durationMaxMs = parseGoDuration(dMax);
  } catch (e) {
    throw new BadParam(`malformed parameter ${dMaxName}: ${(e as Error).message}`);
  }
  return out;
}

/** Whether a span meets every condition of the query (a trace matches when one of its spans does). */
function spanMatches(s: FlatSpan, f: FindQuery): boolean {
  if (f.service && s.service !== f.service) return false;
  if (f.operation && s.name !== f.operation) return false;
  if (s.startMs < f.startMin || s.startMs > f.startMax) return false;
  const d = s.endMs - s.startMs;
  if (f.durationMinMs !== undefined && d < f.durationMinMs) return false;
  if (f.durationMaxMs !== undefined && d > f.durationMaxMs) return false;
  for (const [k, v] of Object.entries(f.attributes)) {
    const a = k in s.attributes ? s.attributes[k] : s.resource[k];
    if (a === undefined || (Array.isArray(a) ? JSON.stringify(a) : String(a)) !== v) return false;
  }
  return true;
}

/** The matching traces, newest first, at most searchDepth of them. */
export function findTraces(store: SpanStore, f: FindQuery): FlatSpan[][] {
  const found: { startMs: number; spans: FlatSpan[] }[] = [];
  for (const [, spans, t] of store.entries()) {
    if (t.endMs < f.startMin || t.startMs > f.startMax) continue;
    if (spans.some((s) => spanMatches(s, f))) found.push({ startMs: t.startMs, spans });
  }
  found.sort((a, b) => b.startMs - a.startMs);
  return found.slice(0, Math.max(0, f.searchDepth) || DEFAULT_SEARCH_DEPTH).map((t) => t.spans);
}

function returnTraces(res: ServerResponse, traces: FlatSpan[][]): void {
  if (traces.length === 0) return jaegerError(res, 404, 'No traces found');
  const resourceSpans: ResourceSpans[] = [];
  for (const t of traces) resourceSpans.push(...(toOtlp(t).resourceSpans ?? []));
  sendJson(res, 200, { result: { resourceSpans } });
}

/** Answers a GET under /api/v3/; false when the path is not one of its routes. */
export function handleApiV3(store: SpanStore, path: string, q: URLSearchParams, res: ServerResponse): boolean {
  try {
    if (path === '/api/v3/services') {
      sendJson(res, 200, { services: store.services() });
      return true;
    }
    if (path === '/api/v3/operations') {
      const [kind] = param(q, 'spanKind', 'span_kind');
      const ops = store.operations(q.get('service') ?? '', kind || undefined);
      sendJson(res, 200, { operations: ops.map((o) => ({ name: o.name, spanKind: o.kind.toLowerCase() })) });
      return true;
    }
    if (path === '/api/v3/traces') {
      returnTraces(res, findTraces(store, parseFindQuery(q)));
      return true;
    }
    const m = /^\/api\/v3\/traces\/([^/]+)$/.exec(path);
    if (m) {
      let raw = decodeURIComponent(m[1]);
      // Jaeger's TraceIDFromString takes hex of any length up to 32 (left-padded), or base64.
      if (/^[0-9a-fA-F]{1,31}$/.test(raw)) raw = raw.padStart(32, '0');
      let id: string;
      try {
        id = normalizeId(raw, 16, 'trace_id');
      } catch (e) {
        if (e instanceof OtlpError) throw new BadParam(`malformed parameter trace_id: ${e.message}`);
        throw e;
      }
      for (const name of ['startTime', 'start_time', 'endTime', 'end_time']) {
        const t = q.get(name);
        if (t) parseTime(t, name);
      }
      const spans = store.trace(id);
      returnTraces(res, spans ? [spans] : []);
      return true;
    }
    return false;
  } catch (e) {
    if (e instanceof BadParam) {
      jaegerError(res, 400, e.message);
      return true;
    }
    throw e;
  }
}

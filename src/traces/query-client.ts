// A client of Jaeger v2's /api/v3 HTTP API (its query service's HTTP gateway), which the built-in
// viewer serves too: the same script or exercise check reads traces from either. Parameters use the
// canonical camelCase names Jaeger 2.19+ documents (query.serviceName, query.startTimeMin, ...; the
// older snake_case spellings are deprecated aliases there). Trace answers are OTLP JSON under
// `result`; Jaeger answers 404 {"error": {"httpCode": 404, "message": "No traces found"}} when a
// search or a trace id finds nothing, which this client turns into an empty list.
import { groupByTrace, OtlpError, type FlatSpan } from './otlp.js';
import { parseTraceText } from './documents.js';

export interface FindTracesQuery {
  service: string;
  operation?: string;
  /** the window the traces' start lies in: ms since the epoch, or Date */
  startMin: number | Date;
  startMax: number | Date;
  /** how many traces at most (Jaeger's query.searchDepth, formerly query.num_traces) */
  numTraces?: number;
  /** span attributes that must match exactly (Jaeger's query.attributes); also checked here */
  attributes?: Record<string, string>;
  /** minimum duration in milliseconds */
  durationMin?: number;
  durationMax?: number;
}

export interface Operation {
  name: string;
  spanKind: string;
}

export class TraceQueryError extends Error {
  override name = 'TraceQueryError';
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

interface ErrorBody {
  error?: { httpCode?: number; message?: string };
}

const HINT =
  'Is the viewer running (npm start, or raft-otel viewer) or Jaeger v2 (its query port, 16686)? Pass its base URL, e.g. --traces http://127.0.0.1:8000';

function iso(t: number | Date): string {
  return (typeof t === 'number' ? new Date(t) : t).toISOString();
}

export class TraceQueryClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {
    let u: URL;
    try {
      u = new URL(baseUrl);
    } catch {
      throw new TraceQueryError(`${baseUrl} is not a URL. ${HINT}`, baseUrl);
    }
    this.baseUrl = u.toString().replace(/\/+$/, '');
  }

  /** GET a path under /api/v3; 404 with Jaeger's error shape is `null` (nothing found). */
  private async get(path: string, params: Record<string, string | undefined> = {}): Promise<unknown> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
    const url = `${this.baseUrl}/api/v3/${path}${q.size ? `?${q.toString()}` : ''}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      const c = (e as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message ?? (e as Error).message;
      throw new TraceQueryError(`cannot reach ${url}: ${cause}. ${HINT}`, url);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new TraceQueryError(
        `${url} answered ${res.status} with something that is not JSON (${text.slice(0, 80).trim()}). ${HINT}`,
        url,
        res.status,
      );
    }
    const err = (body as ErrorBody).error;
    if (res.status === 404 && err && typeof err === 'object' && err.httpCode === 404) return null;
    if (!res.ok) {
      const msg = err && typeof err === 'object' && err.message ? err.message : text.slice(0, 200);
      throw new TraceQueryError(
        `${url} answered ${res.status}: ${msg}${res.status === 404 ? `. ${HINT}` : ''}`,
        url,
        res.status,
      );
    }
    return body;
  }

  private spans(body: unknown, url: string): FlatSpan[] {
    if (body === null) return [];
    try {
      return parseTraceText(JSON.stringify(body));
    } catch (e) {
      if (e instanceof OtlpError) throw new TraceQueryError(`${url}: the answer is not OTLP JSON: ${e.message}`, url);
      throw e;
    }
  }

  /** Service names seen (one per node: raft-<id>). */
  async services(): Promise<string[]> {
    const body = (await this.get('services')) as { services?: unknown } | null;
    const list = body?.services ?? [];
    return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : [];
  }

  /** Span names of a service, with their kind in Jaeger's spelling ("server", "client", "internal"). */
  async operations(service: string, spanKind?: string): Promise<Operation[]> {
    const body = (await this.get('operations', { service, spanKind })) as { operations?: unknown } | null;
    const list = body?.operations ?? [];
    if (!Array.isArray(list)) return [];
    return (list as { name?: unknown; spanKind?: unknown }[])
      .filter((o) => typeof o?.name === 'string')
      .map((o) => ({ name: o.name as string, spanKind: typeof o.spanKind === 'string' ? o.spanKind : '' }));
  }

  /** Traces with a span of `service` (and `operation`) starting in the window; each trace's spans in start order. */
  async findTraces(q: FindTracesQuery): Promise<FlatSpan[][]> {
    const params: Record<string, string | undefined> = {
      'query.serviceName': q.service,
      'query.operationName': q.operation,
      'query.startTimeMin': iso(q.startMin),
      'query.startTimeMax': iso(q.startMax),
      'query.searchDepth': q.numTraces !== undefined ? String(q.numTraces) : undefined,
      'query.durationMin': q.durationMin !== undefined ? `${q.durationMin}ms` : undefined,
      'query.durationMax': q.durationMax !== undefined ? `${q.durationMax}ms` : undefined,
      'query.attributes': q.attributes ? JSON.stringify(q.attributes) : undefined,
    };
    const body = await this.get('traces', params);
    let traces = groupByTrace(this.spans(body, `${this.baseUrl}/api/v3/traces`));
    // A Jaeger older than the attribute filter ignores it: check it here as well.
    const attrs = q.attributes;
    if (attrs && Object.keys(attrs).length > 0)
      traces = traces.filter((t) =>
        t.some((s) => Object.entries(attrs).every(([k, v]) => k in s.attributes && String(s.attributes[k]) === v)),
      );
    return traces;
  }

  /** Every span of one trace (empty when the trace is unknown). */
  async getTrace(traceId: string): Promise<FlatSpan[]> {
    const path = `traces/${encodeURIComponent(traceId)}`;
    const body = await this.get(path);
    const spans = this.spans(body, `${this.baseUrl}/api/v3/${path}`);
    return spans.sort((a, b) => a.startMs - b.startMs);
  }
}

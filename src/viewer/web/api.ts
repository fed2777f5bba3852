// The page's calls to the viewer server (/api/viewer/*). Every failure becomes an Error whose
// message says which call failed and why, so the page can show it instead of going blank.
import { decodeTimeline, type TimelineWire } from '../../traces/timeline-span';
import type { ClusterView, ControlRequest, ControlResult, FlatSpan, Stats, TimelineSpan, TraceSummary } from './types';

async function getJson<T>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' } });
  } catch (e) {
    throw new Error(`${path}: the viewer server did not answer (${String(e)}); is raft-otel still running?`, {
      cause: e,
    });
  }
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await errorText(res)}`);
  return (await res.json()) as T;
}

async function errorText(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { message?: string } };
    return body.error?.message ?? text;
  } catch {
    return text || res.statusText;
  }
}

/** Spans that started in [start, end] (ms since the epoch), in the timeline's compact form (a
 *  trace's full spans come from fetchTrace when it is opened). */
export async function fetchTimeline(
  start: number,
  end: number,
): Promise<{ spans: TimelineSpan[]; truncated: boolean }> {
  const path = `/api/viewer/timeline?start=${Math.floor(start)}&end=${Math.ceil(end)}`;
  const w = await getJson<TimelineWire>(path);
  try {
    return { spans: decodeTimeline(w), truncated: w.truncated };
  } catch (e) {
    throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

export function fetchTrace(traceId: string): Promise<FlatSpan[]> {
  return getJson(`/api/viewer/traces/${encodeURIComponent(traceId)}`);
}

export function fetchCluster(): Promise<ClusterView> {
  return getJson('/api/viewer/cluster');
}

export interface SearchQuery {
  kind?: string;
  node?: string;
  term?: string;
  key?: string;
  error?: boolean;
  minDurationMs?: string;
  start?: number;
  end?: number;
  limit?: number;
}

export function search(q: SearchQuery): Promise<TraceSummary[] | { traces: TraceSummary[] }> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === '' || v === false) continue;
    params.set(k, String(v));
  }
  return getJson(`/api/viewer/search?${params.toString()}`);
}

/** The address of an OTLP JSON export of one trace or of a time window (Jaeger's Upload opens it). */
export function exportUrl(what: { traceId: string } | { start: number; end: number }): string {
  return 'traceId' in what
    ? `/api/viewer/export?traceId=${encodeURIComponent(what.traceId)}`
    : `/api/viewer/export?start=${Math.floor(what.start)}&end=${Math.ceil(what.end)}`;
}

export async function importFile(body: string): Promise<{ spans: number; traces: number }> {
  const res = await fetch('/api/viewer/import', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-raft-viewer': '1' },
    body,
  });
  if (!res.ok) throw new Error(`import: ${res.status} ${await errorText(res)}`);
  return (await res.json()) as { spans: number; traces: number };
}

/** Asks the viewer to act on the local cluster (kill, partition, a write...). */
export async function control(req: ControlRequest): Promise<ControlResult> {
  let res: Response;
  try {
    res = await fetch('/api/viewer/control', {
      method: 'POST',
      // The server refuses a POST without this header: another web page cannot forge it.
      headers: { 'content-type': 'application/json', 'x-raft-viewer': '1' },
      body: JSON.stringify(req),
    });
  } catch (e) {
    return { error: { code: 'unreachable', message: `the viewer server did not answer (${String(e)})` } };
  }
  const text = await res.text();
  try {
    return JSON.parse(text) as ControlResult;
  } catch {
    return { error: { code: `http_${res.status}`, message: text || res.statusText } };
  }
}

export interface StreamHandlers {
  spans: (spans: FlatSpan[]) => void;
  cluster: (view: ClusterView) => void;
  stats: (stats: Stats) => void;
  connected: (up: boolean) => void;
}

/** The server's pushed updates (SSE). EventSource reconnects by itself after a drop. */
export function openStream(h: StreamHandlers): () => void {
  const es = new EventSource('/api/viewer/stream');
  const on = <T>(name: string, fn: (v: T) => void) =>
    es.addEventListener(name, (ev) => {
      try {
        fn(JSON.parse((ev as MessageEvent<string>).data) as T);
      } catch (e) {
        console.warn(`viewer stream: a bad "${name}" event`, e);
      }
    });
  on<FlatSpan[] | { spans: FlatSpan[] }>('spans', (v) => h.spans(Array.isArray(v) ? v : v.spans));
  on<ClusterView>('cluster', h.cluster);
  on<Stats>('stats', h.stats);
  es.onopen = () => h.connected(true);
  es.onerror = () => h.connected(false);
  return () => es.close();
}

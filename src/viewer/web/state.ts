// The page's state: the spans it holds (in the timeline's compact form), the cluster view and the server's stats, as Preact
// signals. Spans live in one bounded store (oldest dropped first) so a page left open for hours
// stays small; components re-render when `spansVersion` moves.
import { signal } from '@preact/signals';
import type { ClusterView, Stats, TimelineSpan } from './types';

/** The page keeps at most this many spans (the server keeps more; scrolling back fetches them). */
export const MAX_PAGE_SPANS = 150_000;

class SpanStore {
  private readonly byKey = new Map<string, TimelineSpan>();
  /** The span window fetched so far: [from, to] in ms, or null before the first fetch. */
  loaded: { from: number; to: number } | null = null;

  get size(): number {
    return this.byKey.size;
  }

  /** Adds spans (a span seen again replaces the old copy); returns how many were new. */
  add(spans: TimelineSpan[]): number {
    let added = 0;
    for (const s of spans) {
      const key = `${s.traceId}/${s.spanId}`;
      if (!this.byKey.has(key)) added++;
      this.byKey.set(key, s);
    }
    if (this.byKey.size > MAX_PAGE_SPANS) this.trim();
    return added;
  }

  private trim(): void {
    const all = [...this.byKey.entries()].sort((a, b) => a[1].startMs - b[1].startMs);
    const drop = all.length - Math.floor(MAX_PAGE_SPANS * 0.9);
    for (let i = 0; i < drop; i++) this.byKey.delete(all[i][0]);
    this.loaded = null;
  }

  /** Spans overlapping [from, to]. */
  inWindow(from: number, to: number): TimelineSpan[] {
    const out: TimelineSpan[] = [];
    for (const s of this.byKey.values()) if (s.endMs >= from && s.startMs <= to) out.push(s);
    return out;
  }

  /** Every span of the traces that have a span overlapping [from, to] (so an arrow or bar that
   *  crosses the window's edge is drawn whole). */
  tracesInWindow(from: number, to: number): TimelineSpan[] {
    const ids = new Set<string>();
    for (const s of this.byKey.values()) if (s.endMs >= from && s.startMs <= to) ids.add(s.traceId);
    const out: TimelineSpan[] = [];
    for (const s of this.byKey.values()) if (ids.has(s.traceId)) out.push(s);
    return out;
  }

  all(): IterableIterator<TimelineSpan> {
    return this.byKey.values();
  }

  latestMs(): number {
    let t = 0;
    for (const s of this.byKey.values()) if (s.endMs > t) t = s.endMs;
    return t;
  }

  clear(): void {
    this.byKey.clear();
    this.loaded = null;
  }
}

export const store = new SpanStore();
export const spansVersion = signal(0);
export const cluster = signal<ClusterView | null>(null);
export const stats = signal<Stats | null>(null);
export const streamUp = signal(false);
/** The last error a call to the server gave, shown in the header until the next success. */
export const problem = signal<string | null>(null);
/** The trace shown in the detail pane (the hash route #/trace/<id>). */
export const openTraceId = signal<string | null>(null);

/** Redraws (and the timeline's rebuild over every span held) happen at most this often while
 *  spans stream in: a busy cluster pushes a batch every 200 ms. */
const MIN_REDRAW_MS = 500;
let lastBump = 0;
let bumpTimer = 0;

/** Adds spans and redraws: at once for a window the page asked for (`now`), else (the stream's
 *  batches) at most every MIN_REDRAW_MS. */
export function addSpans(spans: TimelineSpan[], now = false): void {
  if (!spans.length) return;
  store.add(spans);
  if (now) {
    window.clearTimeout(bumpTimer);
    bump();
    return;
  }
  const wait = lastBump + MIN_REDRAW_MS - performance.now();
  if (wait <= 0) bump();
  else if (!bumpTimer) bumpTimer = window.setTimeout(bump, wait);
}

function bump(): void {
  bumpTimer = 0;
  lastBump = performance.now();
  spansVersion.value++;
}

/** A time window the URL asks the timeline to show (#/window/<from>-<to>, ms since the epoch). */
export const routeWindow = signal<{ from: number; to: number } | null>(null);

/** The hash route: #/trace/<32 hex> opens that trace; #/window/<from>-<to> shows that window. */
export function readRoute(): void {
  const m = /^#\/trace\/([0-9a-fA-F]{32})/.exec(location.hash);
  openTraceId.value = m ? m[1].toLowerCase() : null;
  const w = /^#\/window\/(\d+)-(\d+)/.exec(location.hash);
  if (w && Number(w[2]) > Number(w[1])) routeWindow.value = { from: Number(w[1]), to: Number(w[2]) };
}

export function openTrace(traceId: string | null): void {
  const hash = traceId ? `#/trace/${traceId}` : '#/';
  if (location.hash !== hash) location.hash = hash;
  else readRoute();
}

// The viewer's spans, in memory and bounded: a cap on spans and one on (estimated) bytes. When
// either is passed, the oldest traces (by when their first span arrived) go whole, never a part of
// a trace, and the evictions are counted for /api/viewer/stats. Indexes:
//  - traces by id (a Map in arrival order: its first key is the next to evict);
//  - spans by start time, in one-second buckets, for the timeline's window queries;
//  - services and their operations, for /api/v3/services and /operations.
// A span seen twice (a file imported twice, a retried export) is stored once.
import { isError, rootSpan, spanKey, spanTerm, traceKind, type TraceKindName } from '../../traces/kinds.js';
import type { FlatSpan } from '../../traces/otlp.js';

export interface StoreCaps {
  maxSpans: number;
  maxBytes: number;
}

export const DEFAULT_CAPS: StoreCaps = { maxSpans: 200_000, maxBytes: 256 * 1024 * 1024 };

export interface TraceSummary {
  traceId: string;
  kind: TraceKindName;
  rootName: string;
  service: string;
  startMs: number;
  durationMs: number;
  spanCount: number;
  nodes: string[];
  error: boolean;
  term?: number;
  key?: string;
}

export interface StoreStats {
  spans: number;
  traces: number;
  bytes: number;
  evictedTraces: number;
  evictedSpans: number;
  caps: StoreCaps;
}

interface TraceEntry {
  spans: FlatSpan[];
  ids: Set<string>;
  bytes: number;
  startMs: number;
  endMs: number;
  summary: TraceSummary | null;
}

const BUCKET_MS = 1000;

interface Bucket {
  spans: FlatSpan[];
  /** spans in `spans` whose trace was evicted since the last compaction */
  dead: number;
}

/** A rough size of a span in memory: its strings twice (UTF-16) and a fixed cost per object. */
export function estimateBytes(s: FlatSpan): number {
  let n = 400 + 2 * (s.name.length + s.service.length);
  for (const k in s.attributes) {
    const v = s.attributes[k];
    n += 48 + 2 * k.length + (typeof v === 'string' ? 2 * v.length : Array.isArray(v) ? 32 * v.length : 8);
  }
  for (const e of s.events) {
    n += 96 + 2 * e.name.length;
    for (const k in e.attributes) n += 64 + 2 * k.length;
  }
  n += 128 * s.links.length;
  return n;
}

export class SpanStore {
  private traces = new Map<string, TraceEntry>();
  private buckets = new Map<number, Bucket>();
  private ops = new Map<string, Map<string, Set<string>>>();
  private spanCount = 0;
  private byteCount = 0;
  private evictedTraces = 0;
  private evictedSpans = 0;
  private changes = 0;

  /** Moves whenever a span is added or evicted: an answer cached at one version is still true. */
  get version(): number {
    return this.changes;
  }

  constructor(readonly caps: StoreCaps = DEFAULT_CAPS) {}

  /** Adds spans; returns those that were new (a duplicate span id within its trace is skipped). */
  add(spans: FlatSpan[]): FlatSpan[] {
    const added: FlatSpan[] = [];
    for (const s of spans) {
      let t = this.traces.get(s.traceId);
      if (!t) {
        t = { spans: [], ids: new Set(), bytes: 0, startMs: s.startMs, endMs: s.endMs, summary: null };
        this.traces.set(s.traceId, t);
      } else if (t.ids.has(s.spanId)) continue;
      const bytes = estimateBytes(s);
      t.spans.push(s);
      t.ids.add(s.spanId);
      t.bytes += bytes;
      t.startMs = Math.min(t.startMs, s.startMs);
      t.endMs = Math.max(t.endMs, s.endMs);
      t.summary = null;
      this.spanCount++;
      this.byteCount += bytes;
      const b = Math.floor(s.startMs / BUCKET_MS);
      let bucket = this.buckets.get(b);
      if (!bucket) this.buckets.set(b, (bucket = { spans: [], dead: 0 }));
      bucket.spans.push(s);
      let ops = this.ops.get(s.service);
      if (!ops) this.ops.set(s.service, (ops = new Map<string, Set<string>>()));
      let kinds = ops.get(s.name);
      if (!kinds) {
        // A sender inventing span names without end must not grow this index without end.
        if (ops.size < 10_000) ops.set(s.name, (kinds = new Set()));
      }
      kinds?.add(s.kind);
      added.push(s);
    }
    if (added.length) this.changes++;
    this.evict();
    return added;
  }

  private evict(): void {
    while (this.spanCount > this.caps.maxSpans || this.byteCount > this.caps.maxBytes) {
      const oldest = this.traces.keys().next();
      if (oldest.done) break;
      this.drop(oldest.value);
    }
  }

  private drop(traceId: string): void {
    const t = this.traces.get(traceId);
    if (!t) return;
    this.traces.delete(traceId);
    this.changes++;
    this.spanCount -= t.spans.length;
    this.byteCount -= t.bytes;
    this.evictedTraces++;
    this.evictedSpans += t.spans.length;
    const touched = new Set<number>();
    for (const s of t.spans) {
      const b = Math.floor(s.startMs / BUCKET_MS);
      const bucket = this.buckets.get(b);
      if (!bucket) continue;
      bucket.dead++;
      touched.add(b);
    }
    // Compact a bucket once half of it is dead: amortized O(1) per evicted span.
    for (const b of touched) {
      const bucket = this.buckets.get(b)!;
      if (bucket.dead * 2 < bucket.spans.length) continue;
      bucket.spans = bucket.spans.filter((s) => this.traces.get(s.traceId)?.ids.has(s.spanId));
      bucket.dead = 0;
      if (bucket.spans.length === 0) this.buckets.delete(b);
    }
  }

  private live(s: FlatSpan): boolean {
    return this.traces.get(s.traceId)?.ids.has(s.spanId) === true;
  }

  stats(): StoreStats {
    return {
      spans: this.spanCount,
      traces: this.traces.size,
      bytes: this.byteCount,
      evictedTraces: this.evictedTraces,
      evictedSpans: this.evictedSpans,
      caps: { ...this.caps },
    };
  }

  /** Spans starting in [startMs, endMs], in start order, at most `limit` (the earliest ones). */
  spansIn(startMs: number, endMs: number, limit: number): { spans: FlatSpan[]; truncated: boolean } {
    const out: FlatSpan[] = [];
    const first = Math.floor(startMs / BUCKET_MS);
    const last = Math.floor(endMs / BUCKET_MS);
    // Few buckets exist compared with a long window: walk whichever is smaller.
    const keys =
      last - first > this.buckets.size
        ? [...this.buckets.keys()].filter((b) => b >= first && b <= last).sort((a, b) => a - b)
        : Array.from({ length: last - first + 1 }, (_, i) => first + i);
    for (const b of keys) {
      const bucket = this.buckets.get(b);
      if (!bucket) continue;
      for (const s of bucket.spans) if (s.startMs >= startMs && s.startMs <= endMs && this.live(s)) out.push(s);
    }
    out.sort((a, b) => a.startMs - b.startMs);
    if (out.length > limit) return { spans: out.slice(0, limit), truncated: true };
    return { spans: out, truncated: false };
  }

  trace(traceId: string): FlatSpan[] | undefined {
    const t = this.traces.get(traceId);
    return t ? [...t.spans].sort((a, b) => a.startMs - b.startMs) : undefined;
  }

  hasTrace(traceId: string): boolean {
    return this.traces.has(traceId);
  }

  /** Trace ids, newest first by arrival (which follows time closely; no sort of every trace). */
  traceIdsNewestFirst(): string[] {
    return [...this.traces.keys()].reverse();
  }

  services(): string[] {
    return [...this.ops.keys()].sort();
  }

  /** Operations of a service: span name and kind, one entry per (name, kind) pair. */
  operations(service: string, kind?: string): { name: string; kind: string }[] {
    const ops = this.ops.get(service);
    if (!ops) return [];
    const out: { name: string; kind: string }[] = [];
    for (const [name, kinds] of ops)
      for (const k of kinds) if (!kind || k.toLowerCase() === kind.toLowerCase()) out.push({ name, kind: k });
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  summary(traceId: string): TraceSummary | undefined {
    const t = this.traces.get(traceId);
    if (!t) return undefined;
    if (t.summary) return t.summary;
    const root = rootSpan(t.spans)!;
    const nodes = new Set<string>();
    let error = false;
    let term: number | undefined;
    let key: string | undefined;
    for (const s of t.spans) {
      if (s.nodeId !== undefined) nodes.add(s.nodeId);
      if (isError(s)) error = true;
    }
    term = spanTerm(root);
    key = spanKey(root);
    for (const s of t.spans) {
      if (term === undefined) term = spanTerm(s);
      if (key === undefined) key = spanKey(s);
      if (term !== undefined && key !== undefined) break;
    }
    const summary: TraceSummary = {
      traceId,
      kind: traceKind(t.spans),
      rootName: root.name,
      service: root.service,
      startMs: t.startMs,
      durationMs: t.endMs - t.startMs,
      spanCount: t.spans.length,
      nodes: [...nodes].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
      error,
    };
    if (term !== undefined) summary.term = term;
    if (key !== undefined) summary.key = key;
    t.summary = summary;
    return summary;
  }

  /** Every trace's span list, for scans (find traces); in arrival order. */
  *entries(): Generator<[string, FlatSpan[], { startMs: number; endMs: number }]> {
    for (const [id, t] of this.traces) yield [id, t.spans, { startMs: t.startMs, endMs: t.endMs }];
  }
}

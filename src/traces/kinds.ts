// What a trace is about, and the small readings of a span the viewer's timeline and the exercise
// checks share. The nodes tag each root span with raft.trace.kind (the sampler decides on it); the
// finer kinds here (membership, transfer, lock) come from the root's name or HTTP route, which the
// sampler lumps together as "admin" or "write".
import { ATTR, SPAN } from '../telemetry/names.js';
import type { FlatSpan } from './otlp.js';

export const TRACE_KINDS = [
  'election',
  'write',
  'read',
  'heartbeat',
  'snapshot',
  'membership',
  'transfer',
  'lock',
  'admin',
  'other',
] as const;
export type TraceKindName = (typeof TRACE_KINDS)[number];

/** What these readings need of a span: a full one, or the timeline's compact one. */
type SpanReading = Pick<FlatSpan, 'name' | 'attributes'>;

/** The root of a trace: the span without a parent present in `spans` (the earliest if several). */
export function rootSpan<S extends Pick<FlatSpan, 'spanId' | 'parentSpanId' | 'startMs'>>(spans: S[]): S | undefined {
  if (spans.length === 0) return undefined;
  const ids = new Set(spans.map((s) => s.spanId));
  let root: S | undefined;
  for (const s of spans) {
    if (s.parentSpanId !== undefined && ids.has(s.parentSpanId)) continue;
    if (!root || s.startMs < root.startMs) root = s;
  }
  return root ?? spans[0];
}

/** The kind of one span taken as the start of a trace. */
export function spanKindOfTrace(s: SpanReading): TraceKindName {
  const route = s.attributes['http.route'];
  if (s.name === SPAN.transfer || (typeof route === 'string' && route.startsWith('/admin/transfer'))) return 'transfer';
  if (s.name === SPAN.membership || (typeof route === 'string' && route.startsWith('/admin/members')))
    return 'membership';
  if (s.name === SPAN.snapshot || (typeof route === 'string' && route.startsWith('/admin/snapshot'))) return 'snapshot';
  if (typeof route === 'string' && route.startsWith('/locks/')) return 'lock';
  if (isHeartbeat(s)) return 'heartbeat';
  const tagged = s.attributes[ATTR.traceKind];
  if (typeof tagged === 'string' && (TRACE_KINDS as readonly string[]).includes(tagged)) return tagged as TraceKindName;
  if (s.name === SPAN.election || s.name === SPAN.rpc('RequestVote')) return 'election';
  if (s.name === SPAN.propose) return 'write';
  if (s.name === SPAN.rpc('InstallSnapshot')) return 'snapshot';
  return 'other';
}

/** The kind of a trace, read from its root span. */
export function traceKind(spans: FlatSpan[]): TraceKindName {
  const root = rootSpan(spans);
  return root ? spanKindOfTrace(root) : 'other';
}

/** An AppendEntries carrying no entries, sent only to hold leadership. */
export function isHeartbeat(s: SpanReading): boolean {
  if (s.attributes[ATTR.heartbeat] === true) return true;
  return s.name === SPAN.rpc('AppendEntries') && s.attributes[ATTR.entriesCount] === 0;
}

/** Whether the span is a Raft RPC (client or server side). */
export function isRpc(s: FlatSpan): boolean {
  return s.name.startsWith('raft.Raft/');
}

/** The RPC method of a Raft RPC span ("RequestVote"), or undefined. */
export function rpcMethod(s: FlatSpan): string | undefined {
  return isRpc(s) ? s.name.slice('raft.Raft/'.length) : undefined;
}

/** The node at the other end of an RPC span: the receiver of a CLIENT span, the sender of a SERVER span. */
export function rpcPeer(s: Pick<FlatSpan, 'attributes'>): string | undefined {
  const peer = s.attributes['raft.peer.id'];
  return typeof peer === 'string' && peer !== '' ? peer : undefined;
}

/** The Raft term a span names (raft.term), if any. */
export function spanTerm(s: FlatSpan): number | undefined {
  const t = s.attributes[ATTR.term];
  return typeof t === 'number' ? t : undefined;
}

/** The key a write or read is about (raft.key, else the key in the URL path), if any. */
export function spanKey(s: FlatSpan): string | undefined {
  const k = s.attributes[ATTR.key];
  if (typeof k === 'string') return k;
  const path = s.attributes['url.path'];
  if (typeof path === 'string') {
    const m = /^\/kv\/([^/]+)/.exec(path);
    if (m) {
      try {
        return decodeURIComponent(m[1]);
      } catch {
        return m[1];
      }
    }
  }
  return undefined;
}

/** Whether a span failed: error status, or an RPC whose status is not OK. */
export function isError(s: Pick<FlatSpan, 'status'>): boolean {
  return s.status.code === 'ERROR';
}

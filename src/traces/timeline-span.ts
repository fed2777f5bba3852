// The compact form of a span the viewer's timeline draws from: what the timeline reads of a span
// (ids, parent, name, kind, node, start and end, status, the few attributes below, chaos events,
// links) and nothing else. The server sends a window in this form (GET /api/viewer/timeline):
// about a quarter of the bytes of full spans, so a busy 5-minute window arrives and parses in a
// fraction of the time; the page fetches a trace's full spans (attributes, events, resource) only
// when it opens that trace. Shared by the server (encode) and the page (decode, and the stream's
// full spans made compact) so both agree on what the timeline keeps.
import { ATTR } from '../telemetry/names.js';
import { KIND_NUMBER, type AttrValue, type FlatSpan, type SpanKindName, type StatusCodeName } from './otlp.js';

/** The attributes the timeline reads (model.ts and kinds.ts): a trace's kind from its root, an
 *  RPC's peer and method, an election's term and outcome. */
export const TIMELINE_ATTRS = [
  'http.route',
  ATTR.traceKind,
  ATTR.heartbeat,
  ATTR.entriesCount,
  'raft.peer.id',
  'rpc.method',
  ATTR.term,
  'raft.election.outcome',
] as const;

export interface TimelineSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  /** The node the span happened on (spanNode of the full span). */
  nodeId: string;
  startMs: number;
  endMs: number;
  status: { code: StatusCodeName };
  attributes: Record<string, AttrValue>;
  /** Chaos events only (the timeline marks them). */
  events: { name: string; timeMs: number; attributes: Record<string, AttrValue> }[];
  links: { traceId: string; spanId: string }[];
}

/** The node a span happened on: raft.node.id, else the resource's instance id, else the service. */
export function spanNode(s: Pick<FlatSpan, 'attributes' | 'nodeId'> & Partial<Pick<FlatSpan, 'resource' | 'service'>>) {
  const a = s.attributes['raft.node.id'];
  if (typeof a === 'string') return a;
  if (s.nodeId) return s.nodeId;
  const r = s.resource?.['service.instance.id'];
  return typeof r === 'string' ? r : (s.service ?? '');
}

/** A chaos event (injected drop, delay, partition...), marked on the timeline. */
export function isChaosEvent(ev: { name: string; attributes: Record<string, AttrValue> }): boolean {
  return ev.name.startsWith('chaos') || ev.attributes['raft.chaos.kind'] !== undefined;
}

/** Whether the timeline form keeps attribute k of s. An RPC's rpc.method is its span's name
 *  almost always, and the timeline reads `rpc.method ?? name`: kept only when it differs. */
function kept(s: FlatSpan, k: (typeof TIMELINE_ATTRS)[number]): boolean {
  const v = s.attributes[k];
  return v !== undefined && !(k === 'rpc.method' && v === s.name);
}

function chaosEvent(name: string, timeMs: number, kind: AttrValue | undefined): TimelineSpan['events'][number] {
  const attributes: Record<string, AttrValue> = {};
  if (kind !== undefined) attributes['raft.chaos.kind'] = kind;
  return { name, timeMs, attributes };
}

/** A full span (the stream pushes those) cut to what the timeline reads. */
export function toTimelineSpan(s: FlatSpan): TimelineSpan {
  const attributes: Record<string, AttrValue> = {};
  for (const k of TIMELINE_ATTRS) if (kept(s, k)) attributes[k] = s.attributes[k];
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    name: s.name,
    kind: s.kind,
    nodeId: spanNode(s),
    startMs: s.startMs,
    endMs: s.endMs,
    status: { code: s.status.code },
    attributes,
    events: s.events.filter(isChaosEvent).map((e) => chaosEvent(e.name, e.timeMs, e.attributes['raft.chaos.kind'])),
    links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
  };
}

// ---- the wire form -----------------------------------------------------------------------------
// Trace ids, names and nodes are sent once each and referred to by index; times are offsets in ms
// from `base` (rounded to the microsecond the spans carry); attributes are [index into `attrs`,
// value] pairs. A row: [trace, spanId, parentSpanId or '', name, kind (OTLP's number), node, start,
// end, status (0 unset, 1 ok, 2 error), attribute pairs?, events?, links?]; trailing empty parts
// are left out, an empty part before a present one is 0.

export const TIMELINE_FORMAT = 'raft-otel.timeline.v1';

type EventWire = [name: string, time: number, chaosKind?: AttrValue];
type LinkWire = [traceId: string, spanId: string];
export type TimelineRow = [
  trace: number,
  spanId: string,
  parent: string,
  name: number,
  kind: number,
  node: number,
  start: number,
  end: number,
  status: number,
  attrs?: (number | AttrValue)[] | 0,
  events?: EventWire[] | 0,
  links?: LinkWire[],
];

export interface TimelineWire {
  format: typeof TIMELINE_FORMAT;
  truncated: boolean;
  base: number;
  attrs: readonly string[];
  traceIds: string[];
  names: string[];
  nodes: string[];
  spans: TimelineRow[];
}

const STATUS_CODES: StatusCodeName[] = ['UNSET', 'OK', 'ERROR'];
const KIND_NAMES = Object.fromEntries(Object.entries(KIND_NUMBER).map(([k, v]) => [v, k])) as Record<
  number,
  SpanKindName
>;

function interner(): { list: string[]; of: (s: string) => number } {
  const list: string[] = [];
  const index = new Map<string, number>();
  return {
    list,
    of(s) {
      let i = index.get(s);
      if (i === undefined) {
        i = list.length;
        list.push(s);
        index.set(s, i);
      }
      return i;
    },
  };
}

/** Full spans of a window in the wire form. */
export function encodeTimeline(spans: FlatSpan[], truncated: boolean): TimelineWire {
  let base = Infinity;
  for (const s of spans) if (s.startMs < base) base = s.startMs;
  base = Number.isFinite(base) ? Math.floor(base) : 0;
  const off = (t: number) => Math.round((t - base) * 1000) / 1000;
  const traces = interner();
  const names = interner();
  const nodes = interner();
  const rows = spans.map((s): TimelineRow => {
    const row: TimelineRow = [
      traces.of(s.traceId),
      s.spanId,
      s.parentSpanId ?? '',
      names.of(s.name),
      KIND_NUMBER[s.kind],
      nodes.of(spanNode(s)),
      off(s.startMs),
      off(s.endMs),
      STATUS_CODES.indexOf(s.status.code),
    ];
    const attrs: (number | AttrValue)[] = [];
    TIMELINE_ATTRS.forEach((k, i) => {
      if (kept(s, k)) attrs.push(i, s.attributes[k]);
    });
    const events = s.events.filter(isChaosEvent).map((e): EventWire => {
      const k = e.attributes['raft.chaos.kind'];
      return k === undefined ? [e.name, off(e.timeMs)] : [e.name, off(e.timeMs), k];
    });
    const links = s.links.map((l): LinkWire => [l.traceId, l.spanId]);
    if (links.length) row.push(attrs.length ? attrs : 0, events.length ? events : 0, links);
    else if (events.length) row.push(attrs.length ? attrs : 0, events);
    else if (attrs.length) row.push(attrs);
    return row;
  });
  return {
    format: TIMELINE_FORMAT,
    truncated,
    base,
    attrs: TIMELINE_ATTRS,
    traceIds: traces.list,
    names: names.list,
    nodes: nodes.list,
    spans: rows,
  };
}

/** The wire form back to spans; throws on an answer that is not one (an older or foreign server). */
export function decodeTimeline(w: TimelineWire): TimelineSpan[] {
  if (w?.format !== TIMELINE_FORMAT || !Array.isArray(w.spans))
    throw new Error(`not a ${TIMELINE_FORMAT} answer (format ${String(w?.format)})`);
  const { base, attrs: keys, traceIds, names, nodes } = w;
  return w.spans.map((r): TimelineSpan => {
    const attributes: Record<string, AttrValue> = {};
    const pairs = r[9];
    if (pairs) for (let i = 0; i + 1 < pairs.length; i += 2) attributes[keys[pairs[i] as number]] = pairs[i + 1];
    const name = names[r[3]];
    const events = r[10] ? r[10].map(([n, t, k]) => chaosEvent(n, base + t, k)) : [];
    return {
      traceId: traceIds[r[0]],
      spanId: r[1],
      parentSpanId: r[2] || undefined,
      name,
      kind: KIND_NAMES[r[4]] ?? 'INTERNAL',
      nodeId: nodes[r[5]],
      startMs: base + r[6],
      endMs: base + r[7],
      status: { code: STATUS_CODES[r[8]] ?? 'UNSET' },
      attributes,
      events,
      links: r[11] ? r[11].map(([traceId, spanId]) => ({ traceId, spanId })) : [],
    };
  });
}

// The Raft meaning of the cluster timeline: which spans become bars on which node's lane, which
// RPCs become arrows between lanes (a Lamport diagram), and where terms and leaders change. Pure
// functions of the spans, so the canvas drawing (timeline.tsx) only draws.
import { isError, rootSpan, rpcPeer, spanKindOfTrace } from '../../traces/kinds';
import { isChaosEvent, spanNode } from '../../traces/timeline-span';
import type { TimelineSpan, TraceKind } from './types';

export { isError, rootSpan, rpcPeer, spanKindOfTrace };

/** The node a span happened on: raft.node.id, else the resource's instance id, else the service. */
export const nodeOf = spanNode;

export const KIND_COLOURS: Record<TraceKind, string> = {
  election: '#8e44ad',
  write: '#2e86de',
  read: '#10ac84',
  heartbeat: '#a4b0be',
  snapshot: '#e67e22',
  membership: '#c0392b',
  transfer: '#f368e0',
  lock: '#576574',
  admin: '#8395a7',
  other: '#8395a7',
};

export const ERROR_COLOUR = '#e74c3c';

/** Spans of one trace on one node less than this far apart are drawn as one bar. */
export const BURST_GAP_MS = 250;

export interface Bar {
  traceId: string;
  kind: TraceKind;
  node: string;
  startMs: number;
  endMs: number;
  error: boolean;
  label: string;
}

export interface Arrow {
  traceId: string;
  kind: TraceKind;
  from: string;
  to: string;
  sentMs: number;
  /** When the receiver started handling it, or, when it never arrived, when the sender gave up. */
  arrivedMs: number;
  /** The reply's way back, when there was one. */
  reply?: { sentMs: number; arrivedMs: number };
  method: string;
  error: boolean;
  /** No span from the receiver: the request was lost, refused or dropped. */
  lost: boolean;
}

export interface Mark {
  kind: 'term' | 'leader' | 'chaos';
  atMs: number;
  node: string;
  label: string;
  traceId: string;
}

export interface TimelineModel {
  lanes: string[];
  bars: Bar[];
  arrows: Arrow[];
  marks: Mark[];
  heartbeats: number;
  /** The trace of each kind of moment the "jump to" buttons go to, the latest first. */
  latest: { election?: Bar; failover?: Bar; error?: Bar };
}

/** Lanes in natural order (n2 before n10). */
export function sortLanes(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

/** Groups spans by trace and finds each trace's root (no parent, or a parent not received). */
export function groupTraces(spans: Iterable<TimelineSpan>): Map<string, { spans: TimelineSpan[]; root: TimelineSpan }> {
  const byTrace = new Map<string, TimelineSpan[]>();
  for (const s of spans) {
    const list = byTrace.get(s.traceId);
    if (list) list.push(s);
    else byTrace.set(s.traceId, [s]);
  }
  const out = new Map<string, { spans: TimelineSpan[]; root: TimelineSpan }>();
  for (const [id, list] of byTrace) out.set(id, { spans: list, root: rootSpan(list) ?? list[0] });
  return out;
}

/** Builds the timeline of spans: bars, arrows, term/leader/chaos marks. */
export function buildTimeline(
  spans: Iterable<TimelineSpan>,
  opts: { heartbeats: boolean; nodes?: string[] },
): TimelineModel {
  const traces = groupTraces(spans);
  const laneSet = new Set(opts.nodes ?? []);
  const bars: Bar[] = [];
  const arrows: Arrow[] = [];
  const marks: Mark[] = [];
  let heartbeats = 0;
  const elections: Bar[] = [];
  const errors: Bar[] = [];
  for (const [traceId, { spans: list, root }] of traces) {
    const kind = spanKindOfTrace(root);
    if (kind === 'heartbeat') {
      heartbeats++;
      if (!opts.heartbeats) continue;
    }
    // A trace's work on a node is one bar per burst: spans closer than BURST_GAP_MS merge, so a
    // follower applying the entry long after (a restarted node replaying its log) gets its own bar
    // instead of one bar across the whole gap.
    const perNode = new Map<string, TimelineSpan[]>();
    for (const s of list) {
      const node = nodeOf(s);
      laneSet.add(node);
      const l = perNode.get(node);
      if (l) l.push(s);
      else perNode.set(node, [s]);
      for (const ev of s.events) {
        if (isChaosEvent(ev)) marks.push({ kind: 'chaos', atMs: ev.timeMs, node, label: ev.name, traceId });
      }
    }
    const traceBars: Bar[] = [];
    for (const [node, nodeSpans] of perNode) {
      nodeSpans.sort((a, b) => a.startMs - b.startMs);
      let bar: Bar | null = null;
      for (const s of nodeSpans) {
        if (bar && s.startMs <= bar.endMs + BURST_GAP_MS) {
          bar.endMs = Math.max(bar.endMs, s.endMs);
          bar.error ||= isError(s);
        } else {
          bar = { traceId, kind, node, startMs: s.startMs, endMs: s.endMs, error: isError(s), label: root.name };
          traceBars.push(bar);
        }
      }
    }
    // RPCs: a CLIENT span on one node whose SERVER child is on another (or never arrived).
    const serverOf = new Map<string, TimelineSpan>();
    for (const s of list) if (s.kind === 'SERVER' && s.parentSpanId) serverOf.set(s.parentSpanId, s);
    for (const c of list) {
      if (c.kind !== 'CLIENT') continue;
      const from = nodeOf(c);
      const srv = serverOf.get(c.spanId);
      const peer = srv ? nodeOf(srv) : rpcPeer(c);
      if (typeof peer !== 'string' || peer === from) continue;
      laneSet.add(peer);
      const error = isError(c) || (srv ? isError(srv) : false);
      arrows.push({
        traceId,
        kind,
        from,
        to: peer,
        sentMs: c.startMs,
        arrivedMs: srv ? srv.startMs : c.endMs,
        reply: srv ? { sentMs: srv.endMs, arrivedMs: c.endMs } : undefined,
        method: String(c.attributes['rpc.method'] ?? c.name).replace(/^raft\.Raft\//, ''),
        error,
        lost: !srv,
      });
    }
    const rootBar = traceBars.find(
      (b) => b.node === nodeOf(root) && b.startMs <= root.startMs && b.endMs >= root.endMs,
    );
    for (const bar of traceBars) {
      bars.push(bar);
      if (bar.error) errors.push(bar);
    }
    if (kind === 'election' && rootBar) {
      elections.push(rootBar);
      const term = root.attributes['raft.term'];
      const outcome = root.attributes['raft.election.outcome'];
      if (outcome === 'won') {
        marks.push({ kind: 'term', atMs: root.startMs, node: rootBar.node, label: `term ${String(term)}`, traceId });
        marks.push({ kind: 'leader', atMs: root.endMs, node: rootBar.node, label: `${rootBar.node} leads`, traceId });
      }
    }
  }
  return {
    lanes: sortLanes(laneSet),
    bars,
    arrows,
    marks: marks.sort((a, b) => a.atMs - b.atMs),
    heartbeats,
    latest: {
      election: latest(elections),
      failover: latestFailover(traces),
      error: latest(errors),
    },
  };
}

function latest(bars: Bar[]): Bar | undefined {
  let best: Bar | undefined;
  for (const b of bars) if (!best || b.startMs > best.startMs) best = b;
  return best;
}

/** A failover: a won election after the cluster had a leader, that is in a term past the first,
 *  whose winner is not the leader the previous won election (when the page has it) made. The
 *  cluster's very first election is not one; a leader re-elected after a partition is not one. */
function latestFailover(traces: Map<string, { spans: TimelineSpan[]; root: TimelineSpan }>): Bar | undefined {
  const won = [...traces.values()]
    .map(({ root }) => root)
    .filter((r) => r.name === 'raft.election' && r.attributes['raft.election.outcome'] === 'won')
    .sort((a, b) => a.endMs - b.endMs);
  let found: Bar | undefined;
  won.forEach((cur, i) => {
    const term = Number(cur.attributes['raft.term'] ?? 0);
    const prev = i > 0 ? nodeOf(won[i - 1]) : null;
    if (term > 1 && nodeOf(cur) !== prev)
      found = {
        traceId: cur.traceId,
        kind: 'election',
        node: nodeOf(cur),
        startMs: cur.startMs,
        endMs: cur.endMs,
        error: false,
        label: cur.name,
      };
  });
  return found;
}

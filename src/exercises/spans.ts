// Small helpers the checks share for looking at spans (the shared reader in src/traces/ turns the
// query API's answers into FlatSpans; these only read their fields). Names come from the trace
// model (src/telemetry/names.ts), so a renamed span or attribute fails here, in one place.
import type { FlatSpan } from '../traces/otlp.js';
import { ATTR, SPAN } from '../telemetry/names.js';
import type { Trace } from './types.js';

export { ATTR, SPAN };
// The readings the viewer shares: the peer of an RPC span, heartbeats, a trace's root.
export { rpcPeer as peerOf, isHeartbeat, rootSpan } from '../traces/kinds.js';

export function str(s: FlatSpan, key: string): string | undefined {
  const v = s.attributes[key];
  return v === undefined ? undefined : Array.isArray(v) ? v.join(',') : String(v);
}

export function num(s: FlatSpan, key: string): number | undefined {
  const v = s.attributes[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function bool(s: FlatSpan, key: string): boolean | undefined {
  const v = s.attributes[key];
  return typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : undefined;
}

/** The node a span was recorded on: raft.node.id, else the resource's service.instance.id. */
export function nodeOf(s: FlatSpan): string {
  return s.nodeId ?? str(s, ATTR.nodeId) ?? String(s.resource['service.instance.id'] ?? s.service);
}

export function spansNamed(t: Trace | FlatSpan[], name: string, kind?: FlatSpan['kind']): FlatSpan[] {
  const spans = Array.isArray(t) ? t : t.spans;
  return spans.filter((s) => s.name === name && (!kind || s.kind === kind));
}

export function hasEvent(s: FlatSpan, re: RegExp): boolean {
  return s.events.some((e) => re.test(e.name));
}

/** A span's events in time order. */
export function eventsOf(s: FlatSpan): FlatSpan['events'] {
  return [...s.events].sort((a, b) => a.timeMs - b.timeMs);
}

export function byStart<T extends { startMs: number }>(xs: T[]): T[] {
  return [...xs].sort((a, b) => a.startMs - b.startMs);
}

/** The election spans (roots of election traces) in the traces, oldest first. */
export function elections(traces: Trace[]): FlatSpan[] {
  return byStart(traces.flatMap((t) => spansNamed(t, SPAN.election)));
}

export function outcome(election: FlatSpan): string | undefined {
  return str(election, ATTR.electionOutcome);
}

/** True when the election span went through a pre-vote round. */
export function hadPreVote(election: FlatSpan): boolean {
  return hasEvent(election, /^pre-candidate|^pre-vote/);
}

/** Distinct values, in first-seen order. */
export function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** "n1, n2 and n3" */
export function list(xs: string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

/** ms between two times, for messages: "420 ms", "2.3 s". */
export function ms(d: number): string {
  return d < 1000 ? `${Math.round(d)} ms` : `${(d / 1000).toFixed(1)} s`;
}

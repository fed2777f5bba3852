// Warnings about sampling: a check can only see the traces the nodes kept. The local cluster's
// records hold the RAFT_* variables its nodes were started with (the defaults and names are those
// of src/telemetry/config.ts); a compose cluster's are not known here.
import type { TraceKind } from '../telemetry/config.js';

const VARIABLE: Record<TraceKind, string> = {
  election: 'RAFT_SAMPLE_ELECTIONS',
  write: 'RAFT_SAMPLE_WRITES',
  read: 'RAFT_SAMPLE_READS',
  heartbeat: 'RAFT_SAMPLE_HEARTBEATS',
  snapshot: 'RAFT_SAMPLE_SNAPSHOTS',
  admin: 'RAFT_SAMPLE_ADMIN',
};
const DEFAULT: Record<TraceKind, number> = {
  election: 1,
  write: 1,
  read: 1,
  heartbeat: 0,
  snapshot: 1,
  admin: 1,
};

/** What the settings would hide of the kinds of trace a check needs. */
export function samplingWarnings(needs: TraceKind[], settings: Record<string, string>, everyWrite = false): string[] {
  const out: string[] = [];
  // The default sampler caps what load produces (docs/trace-model.md, "Sampling"): a check that
  // looks for one particular write of a bench needs that cap off.
  const rate = settings.RAFT_TRACE_RATE ?? '';
  if (everyWrite && rate !== '0')
    out.push(
      `RAFT_TRACE_RATE=${rate || '5 (the default)'}: under a bench each node traces its first ${settings.RAFT_TRACE_BURST || '50'} writes, then ${rate || '5'} a second, so the write this check looks for may not be traced; start the cluster with RAFT_TRACE_RATE=0`,
    );
  for (const kind of needs) {
    const name = VARIABLE[kind];
    const raw = settings[name];
    const ratio = raw === undefined || raw === '' ? DEFAULT[kind] : Number(raw);
    if (!(ratio >= 1))
      out.push(
        `${name}=${raw ?? `${DEFAULT[kind]} (the default)`}: ${ratio > 0 ? `only ${Math.round(ratio * 100)}% of` : 'no'} ${kind} traces are kept, and this check reads them; start the cluster with ${name}=1`,
      );
  }
  const cap = Number(settings.RAFT_TRACES_PER_MINUTE ?? 0);
  // The per-minute cap counts writes, reads and heartbeats only: elections and the cluster's own
  // changes are never capped.
  if (cap > 0 && needs.some((k) => k === 'write' || k === 'read' || k === 'heartbeat'))
    out.push(
      `RAFT_TRACES_PER_MINUTE=${cap}: each node keeps at most ${cap} new write, read and heartbeat traces a minute, so some of what this check looks for may be missing`,
    );
  return out;
}

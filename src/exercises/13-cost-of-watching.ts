// Exercise 13, the cost of watching: with writes head-sampled, most writes leave no trace, the ones
// kept are whole on every node (followers follow the leader's decision), and elections are still
// kept. The figures (throughput per mode) come from `raft-otel bench`, which prints them; the check
// verifies what sampling kept and lost. (exercises/13-cost-of-watching/)
import { TraceQueryClient } from '../traces/query-client.js';
import { ATTR, SPAN, nodeOf, unique } from './spans.js';
import type { CheckContext, Exercise, Finding, Trace } from './types.js';

/** A kept write is whole when its proposal, commit and an apply on each of `nodes` are there. */
export function wholeWrite(t: Trace, nodes: string[]): boolean {
  const has = (name: string) => t.spans.some((s) => s.name === name);
  const applied = new Set(t.spans.filter((s) => s.name === SPAN.apply).map(nodeOf));
  return has(SPAN.propose) && has(SPAN.commit) && nodes.every((n) => applied.has(n));
}

/** The window is read in slices, so a busy bench in one part of it cannot crowd out the others
 *  (each query returns at most SLICE_TRACES traces per node). A slice that comes back full is read
 *  again in halves, down to MIN_SLICE_MS: a fast machine keeps more than a thousand write traces a
 *  second while every write is traced. */
const SLICES = 60;
const SLICE_TRACES = 1000;
const MIN_SLICE_MS = 10;

/** Write traces (those with a proposal) begun in the window, read slice by slice on every node. */
async function writesAcross(ctx: CheckContext, complete: { value: boolean }): Promise<Trace[]> {
  const client = new TraceQueryClient(ctx.tracesUrl);
  const step = Math.max(1000, (ctx.until - ctx.since) / SLICES);
  const byId = new Map<string, Trace>();
  const read = async (service: string, t0: number, t1: number): Promise<void> => {
    const found = await client.findTraces({
      service,
      operation: SPAN.propose,
      startMin: t0,
      startMax: t1,
      numTraces: SLICE_TRACES,
    });
    if (found.length >= SLICE_TRACES) {
      if (t1 - t0 > MIN_SLICE_MS) {
        const mid = t0 + (t1 - t0) / 2;
        await read(service, t0, mid);
        await read(service, mid, t1);
        return;
      }
      complete.value = false;
    }
    for (const spans of found) if (spans.length) byId.set(spans[0].traceId, { traceId: spans[0].traceId, spans });
  };
  for (let t0 = ctx.since; t0 < ctx.until; t0 += step)
    for (const n of ctx.nodes) await read(`raft-${n.id}`, t0, Math.min(ctx.until, t0 + step));
  return [...byId.values()];
}

/** Log entries committed in the window that no kept trace accounts for: committed entries (the
 *  highest applied index now, less the highest at `exercise start`), less the kept writes'
 *  proposals in that range, less one no-op entry per won election and one entry per membership
 *  change (the cluster's own entries, traced by their own kind). What is left were writes whose
 *  trace was decided "not sampled" where they began. */
export function untracedWrites(o: {
  appliedAtStart: number;
  appliedNow: number;
  keptIndexes: number[];
  clusterEntries: number;
}): number {
  const kept = new Set(o.keptIndexes.filter((i) => i > o.appliedAtStart && i <= o.appliedNow)).size;
  return Math.max(0, o.appliedNow - o.appliedAtStart - kept - o.clusterEntries);
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const complete = { value: true };
  const writes = await writesAcross(ctx, complete);

  // 1. What is lost: entries the cluster committed that no kept trace accounts for. Counted only
  // when every kept write of the window was read (no slice filled up: see writesAcross).
  const appliedAtStart = Math.max(0, ...(ctx.start?.nodes ?? []).map((n) => n.status?.lastApplied ?? 0));
  const appliedNow = Math.max(0, ...[...(await ctx.statuses()).values()].map((st) => st?.lastApplied ?? 0));
  const elections = (await ctx.traces({ operation: SPAN.election, limit: 200 }))
    .flatMap((t) => t.spans)
    .filter((e) => e.name === SPAN.election && e.attributes[ATTR.electionOutcome] === 'won').length;
  const membership = (await ctx.traces({ operation: SPAN.membership, limit: 200 })).length;
  const keptIndexes = writes.flatMap((t) =>
    t.spans.filter((sp) => sp.name === SPAN.propose).map((sp) => Number(sp.attributes[ATTR.logIndex])),
  );
  const committed = appliedNow - appliedAtStart;
  const untraced = untracedWrites({ appliedAtStart, appliedNow, keptIndexes, clusterEntries: elections + membership });
  // A few entries may straddle the window's edges: ask for a clear share, not one or two.
  const enough = !complete.value ? false : untraced >= Math.max(3, committed / 10);
  findings.push({
    ok: enough,
    what: !complete.value
      ? `head sampling dropped writes: more write traces were kept than this check reads (${writes.length}): every write looks sampled`
      : `head sampling dropped writes: of ${committed} entries committed since the start, ${new Set(keptIndexes).size} are kept writes and ${elections + membership} the cluster's own (no-op entries of won elections, membership changes); ${untraced} writes left no trace at all: they were decided "not sampled" where they began`,
    traceId: writes[0]?.traceId,
    next: '`raft-otel down`, `RAFT_TRACE_RATE=0 RAFT_SAMPLE_WRITES=0.1 npm start`, then `raft-otel bench --clients 8 --duration 10 --mix put=100` (step 2), or the default sampler under a bench (step 1b)',
  });

  // 2. What is kept is whole: parent-based sampling keeps a write on every node or on none.
  const voters = unique((ctx.start?.nodes ?? []).flatMap((n) => n.status?.members.voters ?? [n.id]));
  const whole = writes.find((t) => wholeWrite(t, voters));
  findings.push({
    ok: whole !== undefined,
    what: whole
      ? `a kept write is whole: its proposal, commit and an apply on each of ${voters.join(', ')} (the followers followed the leader's decision)`
      : `a kept write with its proposal, commit and an apply on every node (${voters.join(', ')})`,
    traceId: whole?.traceId,
    next: 'write while every node runs (`raft-otel kv put kept 1`), then check again in a few seconds',
  });

  // 3. Sampling is per kind of trace: elections are still kept while writes are sampled.
  const won = (await ctx.traces({ operation: SPAN.election, limit: 100 }))
    .flatMap((t) => t.spans)
    .find((s) => s.name === SPAN.election && s.startMs >= ctx.since && s.attributes[ATTR.electionOutcome] === 'won');
  findings.push({
    ok: won !== undefined,
    what: won
      ? `the election after the kill is in the traces (${nodeOf(won)} won): elections have their own ratio, and no cap ever drops them`
      : 'an election since the start is in the traces (elections are sampled by their own ratio)',
    traceId: won?.traceId,
    next: 'kill the leader (`raft-otel kill <leader>`), wait for a new one, `raft-otel restart` it (step 3)',
  });
  return findings;
}

export const exercise: Exercise = {
  id: '13',
  slug: '13-cost-of-watching',
  title: 'The cost of watching',
  question:
    'What does tracing every write cost, and what do head sampling, a per-node cap and tail sampling keep, lose and save?',
  needsStart: true,
  needs: ['election'],
  check,
};

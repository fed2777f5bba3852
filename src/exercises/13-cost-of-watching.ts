// Exercise 13, the cost of watching: with writes head-sampled, most writes leave no trace, the ones
// kept are whole on every node (followers follow the leader's decision), and elections are still
// kept. The figures (throughput per mode) come from `raft-otel bench`, which prints them; the check
// verifies what sampling kept and lost. (exercises/13-cost-of-watching/)
import { TraceQueryClient } from '../traces/query-client.js';
import { ATTR, SPAN, nodeOf, unique } from './spans.js';
import type { CheckContext, Exercise, Finding, Trace } from './types.js';

const AE = SPAN.rpc('AppendEntries');

/** Trace ids an AppendEntries batch links to: the other writes it carried (its parent is the first). */
export function batchedWrites(traces: Trace[]): { traceId: string; linked: string[] }[] {
  const out: { traceId: string; linked: string[] }[] = [];
  for (const t of traces)
    for (const s of t.spans) {
      if (s.name !== AE || s.kind !== 'CLIENT' || !s.links.length) continue;
      const linked = unique(s.links.map((l) => l.traceId)).filter((id) => id !== t.traceId);
      if (linked.length) out.push({ traceId: t.traceId, linked });
    }
  return out;
}

/** A kept write is whole when its proposal, commit and an apply on each of `nodes` are there. */
export function wholeWrite(t: Trace, nodes: string[]): boolean {
  const has = (name: string) => t.spans.some((s) => s.name === name);
  const applied = new Set(t.spans.filter((s) => s.name === SPAN.apply).map(nodeOf));
  return has(SPAN.propose) && has(SPAN.commit) && nodes.every((n) => applied.has(n));
}

/** How many of the linked trace ids to look up: enough to see a 10% sample, few enough to be quick. */
const LOOKUPS = 40;
/** The window is read in slices, so a busy bench in one part of it cannot crowd out the others
 *  (each query returns at most SLICE_TRACES traces per node). */
const SLICES = 12;
const SLICE_TRACES = 60;

/** Write traces (those with a proposal) begun in the window, read slice by slice on every node. */
async function writesAcross(ctx: CheckContext): Promise<Trace[]> {
  const client = new TraceQueryClient(ctx.tracesUrl);
  const step = Math.max(1000, (ctx.until - ctx.since) / SLICES);
  const byId = new Map<string, Trace>();
  for (let t0 = ctx.since; t0 < ctx.until; t0 += step)
    for (const n of ctx.nodes) {
      const found = await client.findTraces({
        service: `raft-${n.id}`,
        operation: SPAN.propose,
        startMin: t0,
        startMax: Math.min(ctx.until, t0 + step),
        numTraces: SLICE_TRACES,
      });
      for (const spans of found) if (spans.length) byId.set(spans[0].traceId, { traceId: spans[0].traceId, spans });
    }
  return [...byId.values()];
}

/** Up to `n` distinct ids, taken round-robin from each list (so every part of the window counts). */
export function spread(lists: string[][], n: number): string[] {
  const out = new Set<string>();
  for (let i = 0; out.size < n && lists.some((l) => i < l.length); i++)
    for (const l of lists) {
      if (i < l.length) out.add(l[i]);
      if (out.size >= n) break;
    }
  return [...out];
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const writes = await writesAcross(ctx);

  // 1. What is lost: writes that were committed with kept ones but left no trace themselves.
  const batches = batchedWrites(writes);
  const linked = spread(
    batches.map((b) => b.linked),
    LOOKUPS,
  );
  const missing: string[] = [];
  for (const id of linked) if (!(await ctx.trace(id))) missing.push(id);
  const carrier = missing.length ? batches.find((b) => b.linked.includes(missing[0])) : undefined;
  findings.push({
    ok: missing.length > 0,
    what: carrier
      ? `head sampling dropped writes: of ${linked.length} writes that travelled in the same AppendEntries batches as kept ones (span links), ${missing.length} left no trace at all: they were decided "not sampled" where they began`
      : `head sampling dropped writes: some writes batched with kept ones (span links on AppendEntries) left no trace (${linked.length} looked up, all found)`,
    traceId: carrier?.traceId,
    next: '`raft-otel down`, `RAFT_SAMPLE_WRITES=0.1 npm start`, then `raft-otel bench --clients 8 --duration 10 --mix put=100` (step 2)',
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
      ? `the election after the kill is in the traces (${nodeOf(won)} won): elections have their own ratio, and ${nodeOf(won)}'s cap was not spent by writes that began on the leader`
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

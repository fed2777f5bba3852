// Exercise 01, one write, one trace: a PUT sent to a follower is forwarded to the leader, proposed,
// fsynced, sent to every follower in AppendEntries (each fsyncs before it replies), committed and
// applied on every node, and all of it is one trace (exercises/01-one-write-one-trace/).
import type { FlatSpan } from '../traces/otlp.js';
import { ATTR, SPAN, list, nodeOf, num, str } from './spans.js';
import type { CheckContext, Exercise, Finding, Trace } from './types.js';

const PUT = 'PUT /kv/{key}';
/** The forward hop: a follower hands the write to the leader over the peers' gRPC channel. */
const FORWARD = SPAN.rpc('Forward');
/** The resolution of span start times (see the durability step below). */
const CLOCK_MS = 1;

/** The parts of one forwarded write's trace, found by the trace model's parent links. */
interface Write {
  trace: Trace;
  entry: FlatSpan; // the follower's HTTP SERVER span (the root)
  leaderServer: FlatSpan; // the leader's raft.Raft/Forward SERVER span (raft.forwarded_by set)
  hop: FlatSpan | undefined; // the follower's raft.Raft/Forward CLIENT span, parent of leaderServer
  propose: FlatSpan | undefined;
}

function forwardedWrite(t: Trace): Write | null {
  const leaderServer = t.spans.find((s) => s.name === FORWARD && s.kind === 'SERVER' && str(s, 'raft.forwarded_by'));
  const entry = t.spans.find((s) => s.name === PUT && s.kind === 'SERVER' && !s.parentSpanId);
  if (!leaderServer || !entry) return null;
  const hop = t.spans.find((s) => s.kind === 'CLIENT' && s.spanId === leaderServer.parentSpanId);
  const propose = t.spans.find((s) => s.name === SPAN.propose && s.parentSpanId === leaderServer.spanId);
  return { trace: t, entry, leaderServer, hop, propose };
}

function fsync(s: FlatSpan): string {
  const v = num(s, ATTR.fsyncMs);
  return v === undefined ? '?' : `${v.toFixed(1)} ms`;
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const traces = await ctx.traces({ operation: SPAN.propose });
  const writes = traces
    .map((t) => forwardedWrite(t))
    .filter((w): w is Write => w !== null && w.propose !== undefined)
    .sort((a, b) => b.entry.startMs - a.entry.startMs);
  const w = writes[0];
  if (!w) {
    const direct = traces.find((t) => t.spans.some((s) => s.name === PUT));
    return [
      {
        ok: false,
        what: "a write sent to a follower, forwarded to the leader (the follower's PUT /kv/{key} SERVER span, then a raft.Raft/Forward call to the leader, whose SERVER span has raft.forwarded_by)",
        traceId: direct?.traceId,
        next: direct
          ? 'that write went straight to the leader. Find a follower with `raft-otel status` and send it there: `raft-otel kv put greeting hello --node <follower>`'
          : 'no write since `exercise start`. Find a follower with `raft-otel status`, then `raft-otel kv put greeting hello --node <follower>`',
      },
    ];
  }
  const t = w.trace;
  const spans = t.spans;
  const follower = nodeOf(w.entry);
  const leader = nodeOf(w.leaderServer);
  const index = num(w.propose!, ATTR.logIndex);
  const findings: Finding[] = [
    {
      ok: true,
      what: `the write reached ${follower}, a follower (its PUT /kv/{key} SERVER span is the trace's root)`,
      traceId: t.traceId,
    },
    {
      ok: w.hop !== undefined && nodeOf(w.hop) !== leader,
      what: `${follower} forwarded it to the leader ${leader}: a raft.Raft/Forward CLIENT span on ${follower}, parent of ${leader}'s SERVER span (raft.forwarded_by = ${follower})`,
      traceId: t.traceId,
      next: "the forward hop's CLIENT span is missing: check again in a few seconds (spans arrive in batches)",
    },
    {
      ok: index !== undefined,
      what: `1. ${leader} proposed it: raft.propose, child of its Forward SERVER span, at log index ${index ?? '?'} (term ${str(w.propose!, ATTR.term) ?? '?'})`,
      traceId: t.traceId,
    },
  ];
  const leaderPersist = spans.find((s) => s.name === SPAN.persist && nodeOf(s) === leader);
  findings.push({
    ok: leaderPersist !== undefined,
    what: `   ${leader} wrote the entry to its own log: raft.persist (its fsync took ${leaderPersist ? fsync(leaderPersist) : '?'})`,
    traceId: t.traceId,
    next: 'no raft.persist span of the leader in this trace: check again in a few seconds',
  });

  const followers = ctx.nodes.map((n) => n.id).filter((id) => id !== leader);
  const aeClients = spans.filter((s) => s.name === SPAN.rpc('AppendEntries') && s.kind === 'CLIENT');
  const sentTo = followers.filter((f) => aeClients.some((s) => str(s, 'raft.peer.id') === f));
  findings.push({
    ok: sentTo.length === followers.length,
    what: `2. ${leader} sent the entry to every follower: an AppendEntries CLIENT span to ${list(sentTo) || 'none'}`,
    traceId: t.traceId,
    next: `no AppendEntries to ${list(followers.filter((f) => !sentTo.includes(f)))} in this trace. A follower that is down gets it later; an entry sent together with an older one is in that one's trace (a span link). Write once more, alone, with every node up`,
  });
  // Any of the follower's AppendEntries SERVER spans of this trace (the leader may send the entry
  // again, and a second copy needs no fsync) with a raft.persist child that ends before it does.
  // Within a millisecond: the SDK takes a span's start from the millisecond clock and its end from
  // start + a precise duration, so two spans' ends can be out of order by up to 1 ms.
  const why = new Map<string, string>();
  const durable = followers.filter((f) => {
    const servers = spans.filter(
      (server) =>
        server.name === SPAN.rpc('AppendEntries') &&
        server.kind === 'SERVER' &&
        nodeOf(server) === f &&
        aeClients.some((c) => c.spanId === server.parentSpanId),
    );
    const persists = spans.filter((p) => p.name === SPAN.persist && servers.some((sv) => sv.spanId === p.parentSpanId));
    const ok = persists.some((p) => p.endMs <= servers.find((sv) => sv.spanId === p.parentSpanId)!.endMs + CLOCK_MS);
    if (!ok)
      why.set(
        f,
        !servers.length
          ? `${f} has no AppendEntries SERVER span in this trace`
          : !persists.length
            ? `${f}'s AppendEntries SERVER span has no raft.persist child${spans.some((p) => p.name === SPAN.persist && nodeOf(p) === f) ? ' (its raft.persist in this trace hangs elsewhere)' : ''}`
            : `${f}'s raft.persist ends after its reply`,
      );
    return ok;
  });
  findings.push({
    ok: durable.length === followers.length,
    what: `3. each follower wrote it to disk before replying: an AppendEntries SERVER span on ${list(durable) || 'none'} whose raft.persist child ends before it does`,
    traceId: t.traceId,
    next: `${[...why.values()].join('; ')}. Check again in a few seconds; if it stays, write once more`,
  });
  const commit = spans.find((s) => s.name === SPAN.commit && nodeOf(s) === leader);
  findings.push({
    ok: commit !== undefined,
    what: `4. ${leader} committed it once a majority had it: raft.commit (commit index ${commit ? String(commit.attributes[ATTR.commitIndex] ?? '?') : '?'})`,
    traceId: t.traceId,
    next: 'no raft.commit span in this trace: check again in a few seconds',
  });
  const applied = ctx.nodes
    .map((n) => n.id)
    .filter((id) => spans.some((s) => s.name === SPAN.apply && nodeOf(s) === id));
  const notApplied = ctx.nodes.map((n) => n.id).filter((id) => !applied.includes(id));
  findings.push({
    ok: notApplied.length === 0,
    what: `5. every node applied it to its state machine: a raft.apply span on ${list(applied) || 'none'}, in the client's trace (the context travels inside the log entry)`,
    traceId: t.traceId,
    next: `no raft.apply on ${list(notApplied)} yet: check again in a few seconds (a node that was down applies it when it comes back)`,
  });
  if (index !== undefined) {
    const sts = await ctx.statuses();
    const behind = [...sts.entries()].filter(([, s]) => !s || s.lastApplied < index).map(([id]) => id);
    findings.push({
      ok: behind.length === 0,
      what: `every node's /status has applied index ${index} or later`,
      next: `${list(behind)} ${behind.length > 1 ? 'have' : 'has'} not (or does not answer): is every node up? \`raft-otel status\``,
    });
  }
  return findings;
}

export const exercise: Exercise = {
  id: '01',
  slug: '01-one-write-one-trace',
  title: 'One write, one trace',
  question: 'What happens, and where, between a client sending a write and every node having applied it?',
  needs: ['write'],
  needsStart: true,
  check,
};

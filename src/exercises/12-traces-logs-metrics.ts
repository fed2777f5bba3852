// Exercise 12, traces, logs and metrics: one incident (the leader dies under load) seen three ways.
// The check finds what each signal shows: the leader change (node state, as the gauges report it,
// and the won election), the slowest write of the incident (traces), and the new leader's
// `became_leader` log line, whose trace id leads to that election (logs; local mode).
// (exercises/12-traces-logs-metrics/)
import { TraceQueryClient } from '../traces/query-client.js';
import type { FlatSpan } from '../traces/otlp.js';
import { localCluster, logLines } from './local-files.js';
import { agreedLeader } from './nodes.js';
import { ATTR, SPAN, elections, ms, nodeOf, num, outcome } from './spans.js';
import type { CheckContext, Exercise, Finding } from './types.js';

/** How long a write took until `node` applied it: from the trace's first span to that apply. (Not
 *  to the trace's last span: a node that restarts replays its log, and its apply spans join the
 *  original traces seconds later.) */
export function writeExtent(
  spans: FlatSpan[],
  node: string,
): { traceId: string; durationMs: number; first: number; applied: number } | undefined {
  const applied = spans.find((s) => s.name === SPAN.apply && nodeOf(s) === node);
  if (!applied) return undefined;
  const first = Math.min(...spans.map((s) => s.startMs));
  return { traceId: applied.traceId, durationMs: applied.endMs - first, first, applied: applied.startMs };
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const startLeader = ctx.start?.nodes.find((n) => n.status?.role === 'leader');
  const startTerm = Math.max(0, ...(ctx.start?.nodes ?? []).map((n) => n.status?.term ?? 0));
  const sts = await ctx.statuses();
  const leader = agreedLeader(sts);

  // Metrics' view: the term and the leader every node reports moved on.
  findings.push({
    ok: leader !== null && leader.term > startTerm && leader.id !== startLeader?.id,
    what: leader
      ? `leadership moved: ${startLeader?.id ?? 'no node'} led term ${startTerm} at the start, ${leader.id} leads term ${leader.term} now (raft_term and raft_role, as the metrics report them)`
      : 'the cluster has one leader every node agrees on, in a later term than at the start',
    next: 'run the load (`raft-otel bench --clients 4 --duration 20 --mix put=100`), kill the leader a few seconds in (`raft-otel kill <leader>`), then restart it when the bench ends',
  });

  // Traces' view: the election that ended the gap, and the write that waited longest.
  const won = elections(await ctx.traces({ operation: SPAN.election, limit: 300 })).filter(
    (e) => outcome(e) === 'won' && e.startMs >= ctx.since && (num(e, ATTR.term) ?? 0) > startTerm,
  );
  const election = leader ? won.find((e) => nodeOf(e) === leader.id) : won[won.length - 1];
  findings.push({
    ok: election !== undefined,
    what: election
      ? `${nodeOf(election)} won term ${num(election, ATTR.term)} in ${ms(election.endMs - election.startMs)} (raft.election)`
      : `the election the new leader won (raft.election, outcome won)`,
    traceId: election?.traceId,
    next: 'kill the leader while the load runs, wait for a new one (`raft-otel status`), then check again',
  });
  // The write the failover held up longest: under load, the old leader dies with entries its
  // followers hold but have not applied; the new leader commits them after its election, so their
  // traces (as the survivors recorded them) span the election. Asked around the election only: a
  // benchmark makes thousands of write traces.
  let worst: { traceId: string; durationMs: number; first: number; applied: number } | undefined;
  if (election) {
    // Won when the candidate became leader (its "won term N" event); the span itself runs on until
    // the new leader's no-op entry commits (the leader established). The writes held up are applied
    // by the new leader right after it won, with that no-op (one round trip): ask for the applies of
    // the moment after the win only. A wider window lets a bench's later writes, thousands a second,
    // crowd them out of the answer's 1,000 traces.
    const wonAt = wonTime(election);
    const client = new TraceQueryClient(ctx.tracesUrl);
    // The slowest of those that waited through the election, else the slowest of all (to show).
    const spans = (w: { first: number; applied: number }) => w.first < election.startMs && w.applied >= wonAt;
    for (const within of HELD_UP_APPLIED_WITHIN_MS) {
      const around = await client.findTraces({
        service: `raft-${nodeOf(election)}`,
        operation: SPAN.apply,
        startMin: election.startMs,
        startMax: Math.min(ctx.until, wonAt + within),
        numTraces: 1000,
      });
      for (const t of around) {
        const w = writeExtent(t, nodeOf(election));
        if (!w) continue;
        const better =
          !worst || (spans(w) && !spans(worst)) || (spans(w) === spans(worst) && w.durationMs > worst.durationMs);
        if (better) worst = w;
      }
      if (worst && spans(worst)) break;
    }
  }
  const spansElection = worst && election && worst.first < election.startMs && worst.applied >= wonTime(election);
  findings.push({
    ok: spansElection === true,
    what: worst
      ? `the slowest write around the failover took ${ms(worst.durationMs)} from its first span until the new leader applied it${spansElection ? `: replicated before ${nodeOf(election)}'s election began, applied by it only after it won` : ', but it did not wait through the election'}`
      : 'a write held up by the failover: replicated before the election, applied by the new leader after it (its trace spans the election)',
    traceId: worst?.traceId,
    next: 'kill the leader WHILE the bench writes (`raft-otel bench --clients 4 --duration 20 --mix put=100` in another terminal), then check again',
  });

  // Logs' view: the new leader's own account, and the trace id that joins it to the election.
  const cluster = localCluster(sts.values());
  if (!cluster) {
    ctx.warn(
      'the logs are checked in local mode only (in Docker: `docker compose logs raft-<N> | grep became_leader`)',
    );
    return findings;
  }
  const who = election ? nodeOf(election) : leader?.id;
  const entry = cluster.nodes.find((n) => n.id === who);
  const lines = entry ? logLines(entry.logFile, 'became_leader', ctx.since) : [];
  const line = election
    ? (lines.find((l) => l.trace_id === election.traceId) ?? lines[lines.length - 1])
    : lines[lines.length - 1];
  findings.push({
    ok: line !== undefined && election !== undefined && line.trace_id === election.traceId,
    what: line
      ? `${who}'s log says {"event":"became_leader","term":${String(line.term)}} with trace_id ${line.trace_id ?? '(none)'}${election && line.trace_id === election.traceId ? ': the same trace as its raft.election' : ''} (${entry!.logFile})`
      : `the new leader's log has a became_leader line since the start, whose trace_id is its election's trace`,
    traceId: line?.trace_id,
    next: entry
      ? `\`grep became_leader ${entry.logFile}\`; if the line has no trace_id, elections were not sampled (RAFT_SAMPLE_ELECTIONS)`
      : 'no node won an election since the start: kill the leader first',
  });
  return findings;
}

export const exercise: Exercise = {
  id: '12',
  slug: '12-traces-logs-metrics',
  title: 'Traces, logs and metrics',
  question: 'One incident seen three ways: which question does each of metrics, traces and logs answer best?',
  needsStart: true,
  needs: ['election', 'write'],
  needsEveryWrite: true,
  check,
};

/** How soon after the win the new leader applies the writes the failover held up: they commit with
 *  its no-op, one round trip after the win. Asked within 100 ms first (a bench writes thousands a
 *  second, and an answer holds the newest 1,000 traces), then within a second (a loaded machine). */
const HELD_UP_APPLIED_WITHIN_MS = [100, 1000];

/** When an election was won: its "won term N" event, or its end for spans recorded without one. */
function wonTime(election: FlatSpan): number {
  return election.events.find((e) => e.name.startsWith('won term'))?.timeMs ?? election.endMs;
}

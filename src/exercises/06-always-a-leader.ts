// Exercise 06, is there always a leader: on five nodes, delay every message by about the election
// timeout and force an election (hand leadership away). Candidates time out before their votes come
// back, so several stand for the same term and none wins: the cluster has no leader for as long as
// the delays last (the FLP result in practice: safety always, liveness only when timing allows).
// Remove the delays and a leader is elected within a second. (exercises/06-always-a-leader/)
import type { FlatSpan } from '../traces/otlp.js';
import { agreedLeader } from './nodes.js';
import { ATTR, SPAN, byStart, elections, hasEvent, list, ms, nodeOf, num, outcome } from './spans.js';
import type { CheckContext, Exercise, Finding, Trace } from './types.js';

const ROUND = /^pre-candidate: asking for pre-votes|^candidate in term/;

function delayedAsks(traces: Trace[]): FlatSpan[] {
  return traces.flatMap((t) =>
    t.spans.filter((s) => s.name === SPAN.rpc('RequestVote') && s.kind === 'CLIENT' && hasEvent(s, /^chaos: delayed/)),
  );
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  findings.push({
    ok: ctx.nodes.length === 5,
    what: `a cluster of five nodes (this one has ${ctx.nodes.length})`,
    next: 'start a five-node cluster in its own data dir: `npm start -- --nodes 5 --data-dir data5`, then pass `--data-dir data5` to every command, `exercise start 6` included',
  });
  const traces = await ctx.traces({ operation: SPAN.election, limit: 2000 });
  const all = elections(traces);
  const delayed = delayedAsks(traces);
  findings.push({
    ok: delayed.length > 0,
    what: `votes were delayed: ${delayed.length} RequestVote calls carry a "chaos: delayed ... ms" event`,
    traceId: delayed[0]?.traceId,
    next: 'delay every message beyond the election timeout: `raft-otel chaos --delay 700-800`, then force an election: `raft-otel transfer-leadership` (it times out: that is the point)',
  });

  // Rounds of election (pre-vote or real) in time order, and the wins among them.
  const rounds = all
    .flatMap((e) => e.events.filter((x) => ROUND.test(x.name)).map((x) => ({ at: x.timeMs, e })))
    .sort((a, b) => a.at - b.at);
  const wins = all.filter((e) => outcome(e) === 'won').map((e) => e.endMs);
  // The longest stretch from a round to the next win (or to now) with no win in between.
  let best: { from: number; to: number; n: number; nodes: Set<string>; recovered: boolean } | null = null;
  for (let i = 0; i < rounds.length;) {
    const from = rounds[i].at;
    const nextWin = wins.filter((w) => w >= from).sort((a, b) => a - b)[0];
    const to = nextWin ?? ctx.until;
    const inside = rounds.filter((r) => r.at >= from && r.at <= to);
    const stretch = {
      from,
      to,
      n: inside.length,
      nodes: new Set(inside.map((r) => nodeOf(r.e))),
      recovered: !!nextWin,
    };
    if (!best || stretch.to - stretch.from > best.to - best.from) best = stretch;
    i += Math.max(1, inside.length);
  }
  const longEnough = best !== null && best.to - best.from >= 2000 && best.n >= 3;
  findings.push({
    ok: longEnough,
    what: best
      ? `no leader for ${ms(best.to - best.from)}: ${best.n} rounds of election by ${list([...best.nodes])}, none won${best.recovered ? '' : ' (still none)'}`
      : 'a stretch of at least two seconds in which elections keep failing: no leader',
    traceId: best ? rounds.find((r) => r.at === best.from)?.e.traceId : undefined,
    next: 'with delays longer than the election timeout (`raft-otel chaos --delay 700-800`), force an election (`raft-otel transfer-leadership`) and wait five seconds before removing the delays',
  });

  // Competing candidates: several nodes standing for the same term.
  const byTerm = new Map<number, Set<string>>();
  for (const e of all.filter((x) => outcome(x) !== 'won')) {
    const term = num(e, ATTR.term);
    if (term === undefined) continue;
    byTerm.set(term, (byTerm.get(term) ?? new Set()).add(nodeOf(e)));
  }
  const split = [...byTerm.entries()].sort((a, b) => b[1].size - a[1].size)[0];
  findings.push({
    ok: split !== undefined && split[1].size >= 2,
    what: split
      ? `split vote: ${list([...split[1]])} all stood for term ${split[0]}, and none of them won it`
      : 'split vote: several candidates stand for the same term and split the votes between them',
    traceId: split ? all.find((e) => num(e, ATTR.term) === split[0] && outcome(e) !== 'won')?.traceId : undefined,
    next: 'keep the delays on for a few seconds with no leader: the nodes time out together and compete',
  });

  // Recovery: a win after the stretch, with undelayed votes, and one leader now.
  const recovery =
    best && best.recovered ? byStart(all).find((e) => outcome(e) === 'won' && e.endMs >= best.to) : undefined;
  const sts = await ctx.statuses();
  const leader = agreedLeader(sts);
  findings.push({
    ok: recovery !== undefined && leader !== null,
    what: recovery
      ? `once the delays stopped, ${nodeOf(recovery)} won term ${num(recovery, ATTR.term)} in ${ms(recovery.endMs - recovery.startMs)}${leader ? `, and every node follows ${leader.id}` : ''}`
      : 'once the delays stop, a leader is elected and every node follows it',
    traceId: recovery?.traceId,
    next: leader
      ? 'no election was won after the leaderless stretch: remove the delays (`raft-otel chaos --off`) and check again'
      : 'remove the delays: `raft-otel chaos --off`, wait a second, check again',
  });
  return findings;
}

export const exercise: Exercise = {
  id: '06',
  slug: '06-always-a-leader',
  title: 'Is there always a leader?',
  question: 'Can timing alone keep a healthy cluster from electing a leader, and what brings it back?',
  needs: ['election'],
  needsStart: true,
  check,
};

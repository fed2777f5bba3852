// Exercise 00, first election: find the trace of the election that made the current leader, and
// read its pre-vote and vote events beside §5.2 of the Raft paper (exercises/00-first-election/).
import { agreedLeader } from './nodes.js';
import { ATTR, SPAN, bool, eventsOf, hadPreVote, list, nodeOf, num, outcome, str, unique } from './spans.js';
import type { CheckContext, Exercise, Finding } from './types.js';

async function check(ctx: CheckContext): Promise<Finding[]> {
  const sts = await ctx.statuses();
  const leader = agreedLeader(sts);
  if (!leader) {
    const seen = [...sts.entries()].map(([id, s]) => (s ? `${id}: ${s.role}, term ${s.term}` : `${id}: no answer`));
    return [
      {
        ok: false,
        what: 'the cluster has a leader every node agrees on',
        next: `${seen.join('; ')}. Start the cluster (\`npm start\`) and wait for "Leader elected", then check again`,
      },
    ];
  }
  const findings: Finding[] = [
    { ok: true, what: `the cluster has a leader: ${leader.id}, in term ${leader.term} (from every node's /status)` },
  ];
  const traces = await ctx.traces({ operation: SPAN.election, node: leader.id });
  const won = traces
    .flatMap((t) => t.spans)
    .find(
      (s) =>
        s.name === SPAN.election &&
        nodeOf(s) === leader.id &&
        num(s, ATTR.term) === leader.term &&
        outcome(s) === 'won',
    );
  if (!won) {
    findings.push({
      ok: false,
      what: `the trace of the election ${leader.id} won in term ${leader.term} is in the traces (a raft.election span, raft.election.outcome = won)`,
      next: `no such span at ${ctx.tracesUrl}. Is the viewer running (\`raft-otel up\` starts it)? Are elections sampled (RAFT_SAMPLE_ELECTIONS must not be 0)? Spans arrive a few seconds after they end: check again in a moment`,
    });
    return findings;
  }
  findings.push({
    ok: true,
    what: `${leader.id}'s raft.election span of term ${leader.term} ended with raft.election.outcome = won`,
    traceId: won.traceId,
  });

  const events = eventsOf(won).map((e) => e.name);
  const transfer = events.some((e) => /\(leadership transfer\)/.test(e));
  const preVoteOff = /^(false|0|off)$/i.test(ctx.settings.RAFT_PRE_VOTE ?? '');
  if (hadPreVote(won)) {
    const granted = unique(
      eventsOf(won)
        .filter((e) => /^pre-vote granted by /.test(e.name))
        .map((e) => e.name.replace('pre-vote granted by ', '')),
    );
    const candidateAt = events.findIndex((e) => /^candidate in term/.test(e));
    const lastPreVote = events.map((e) => /^pre-vote /.test(e)).lastIndexOf(true);
    findings.push({
      ok: granted.length > 0 && candidateAt > lastPreVote,
      what: `the election began with a pre-vote round (granted by ${list(granted) || 'no one'}), and only then became a real candidacy ("candidate in term ${leader.term}")`,
      traceId: won.traceId,
      next: 'the pre-vote events should come first, then "candidate in term ...": look at the span\'s events in time order',
    });
  } else {
    findings.push({
      ok: transfer || preVoteOff,
      what: transfer
        ? 'this election was a leadership transfer (TimeoutNow): the target skips the pre-vote round'
        : 'PreVote is off for this cluster, so the election has no pre-vote round',
      traceId: won.traceId,
      next: 'the election has no pre-vote events although PreVote is on: was the span cut short? Look at it in the viewer',
    });
  }

  const votes = eventsOf(won).filter((e) => /^vote granted by /.test(e.name));
  const voters = unique(votes.map((e) => e.name.replace('vote granted by ', '')));
  const needed = num(won, ATTR.votesNeeded);
  findings.push({
    ok: needed !== undefined && voters.length + 1 >= needed,
    what: `${leader.id} won with a majority: its own vote and ${voters.length ? `votes granted by ${list(voters)}` : 'no other'} (${needed ?? '?'} needed)`,
    traceId: won.traceId,
    next: 'the winning election must hold "vote granted by ..." events from enough voters; look at the span\'s events',
  });

  // Each vote request is a CLIENT span of the election, and its SERVER span on the voter is its
  // child: the trace context crossed the gRPC call.
  const all = (await ctx.trace(won.traceId))?.spans ?? traces.find((t) => t.traceId === won.traceId)?.spans ?? [];
  const requests = all.filter(
    (s) => s.name === SPAN.rpc('RequestVote') && s.kind === 'CLIENT' && bool(s, ATTR.preVote) !== true,
  );
  const answered = voters.filter((v) =>
    all.some(
      (s) =>
        s.name === SPAN.rpc('RequestVote') &&
        s.kind === 'SERVER' &&
        nodeOf(s) === v &&
        requests.some((c) => c.spanId === s.parentSpanId) &&
        bool(s, ATTR.voteGranted) === true,
    ),
  );
  findings.push({
    ok: voters.length > 0 && answered.length === voters.length,
    what: `each granted vote is a RequestVote CLIENT span on ${leader.id} with the voter's SERVER span as its child (${answered.length ? list(answered) : 'none found'})`,
    traceId: won.traceId,
    next: `missing on ${list(voters.filter((v) => !answered.includes(v))) || 'every voter'}: a voter that crashed since loses the spans it had not exported yet; otherwise check again in a few seconds`,
  });
  const peers = unique(requests.map((s) => str(s, 'raft.peer.id') ?? '?'));
  if (peers.length < ctx.nodes.length - 1)
    ctx.warn(
      `the election asked ${peers.length} of ${ctx.nodes.length - 1} peers in the traces: the others' RequestVote spans may not have been exported yet`,
    );
  return findings;
}

export const exercise: Exercise = {
  id: '00',
  slug: '00-first-election',
  title: 'First election',
  question: 'How does a cluster of equals pick a leader, and what does that look like in a trace?',
  needs: ['election'],
  needsStart: false,
  check,
};

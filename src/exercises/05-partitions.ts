// Exercise 05, partitions and split brain. Three runs, each with the cluster started with other
// settings: cut the leader off with CheckQuorum on (it steps down), with CheckQuorum off (it goes
// on believing it leads: two leaders at once, in different terms; its write never commits and is
// gone after healing), and cut a follower off with PreVote off (its term climbs, and when it comes
// back it deposes a healthy leader). (exercises/05-partitions/)
import { call } from '../cli/http.js';
import type { FlatSpan } from '../traces/otlp.js';
import { agreedLeader } from './nodes.js';
import { ATTR, SPAN, elections, hadPreVote, list, nodeOf, num, outcome, str } from './spans.js';
import type { CheckContext, Exercise, Finding } from './types.js';

async function check(ctx: CheckContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const [electionTraces, quorumTraces, proposeTraces] = await Promise.all([
    ctx.traces({ operation: SPAN.election, limit: 2000 }),
    ctx.traces({ operation: 'raft.check_quorum' }),
    ctx.traces({ operation: SPAN.propose, limit: 1000 }),
  ]);
  const all = elections(electionTraces);
  const won = all.filter((e) => outcome(e) === 'won');

  // 1. CheckQuorum on: the cut-off leader steps down by itself.
  // A step-down that the majority answered with a new leader (a step-down when the cluster was
  // being stopped has no such election).
  const pair = quorumTraces
    .flatMap((t) => t.spans.filter((s) => s.name === 'raft.check_quorum'))
    .map((s) => ({
      s,
      e: won.find(
        (e) =>
          nodeOf(e) !== nodeOf(s) &&
          (num(e, ATTR.term) ?? 0) > (num(s, ATTR.term) ?? 0) &&
          Math.abs(e.endMs - s.startMs) < 5000,
      ),
    }))
    .find((x) => x.e !== undefined);
  const stepDown = pair?.s;
  const replacement = pair?.e;
  findings.push({
    ok: stepDown !== undefined && replacement !== undefined,
    what: stepDown
      ? `CheckQuorum on: ${nodeOf(stepDown)}, cut off, stepped down by itself (raft.check_quorum: it heard from ${String(stepDown.attributes['raft.check_quorum.active'] ?? '?')} of ${String(stepDown.attributes['raft.check_quorum.needed'] ?? '?')} needed)${replacement ? `, while ${nodeOf(replacement)} won term ${num(replacement, ATTR.term)} on the majority side` : ''}`
      : 'CheckQuorum on: a cut-off leader steps down by itself (a raft.check_quorum span), and the majority elects another',
    traceId: stepDown?.traceId,
    next: 'with the default settings, cut the leader off (`raft-otel partition <leader> <the others>`), wait three seconds, `raft-otel heal`',
  });

  // 2. CheckQuorum off: a write proposed by a leader whose term another leader had already replaced.
  const proposals = proposeTraces.flatMap((t) => t.spans.filter((s) => s.name === SPAN.propose));
  const stale = proposals
    .map((p) => {
      const term = num(p, ATTR.term) ?? 0;
      const newer = won.find((e) => nodeOf(e) !== nodeOf(p) && (num(e, ATTR.term) ?? 0) > term && e.endMs < p.startMs);
      return newer ? { p, newer } : null;
    })
    .filter((x): x is { p: FlatSpan; newer: FlatSpan } => x !== null)
    .sort((a, b) => b.p.startMs - a.p.startMs)[0];
  findings.push({
    ok: stale !== undefined,
    what: stale
      ? `CheckQuorum off: two leaders at once. ${nodeOf(stale.p)} still led term ${num(stale.p, ATTR.term)} and took a write (raft.propose at index ${num(stale.p, ATTR.logIndex)}) after ${nodeOf(stale.newer)} had won term ${num(stale.newer, ATTR.term)}`
      : 'CheckQuorum off: the cut-off leader goes on leading its old term and accepts a write while the majority has a newer leader',
    traceId: stale?.p.traceId,
    next: 'restart the cluster with CheckQuorum off (`raft-otel down`, then `RAFT_CHECK_QUORUM=false npm start`), cut the leader off, wait three seconds, write to it: `raft-otel kv put split-brain minority --node <old leader>` (it hangs, then 504), then `raft-otel heal`',
  });
  if (stale) {
    const t = proposeTraces.find((x) => x.traceId === stale.p.traceId);
    const committed = t?.spans.some((s) => s.name === SPAN.commit || s.name === SPAN.apply);
    const root = t?.spans.find((s) => !s.parentSpanId);
    const code = root?.attributes['http.response.status_code'];
    const status = code === undefined ? 'no answer in time' : String(code);
    findings.push({
      ok: !committed && stale.p.status.code === 'ERROR',
      what: `the minority leader's write never committed: no raft.commit, no raft.apply, its raft.propose ended in error (${stale.p.status.message ?? 'no message'}); the client got ${status}, not 200`,
      traceId: stale.p.traceId,
      next: 'this write committed: was the leader really cut off from both others? Check with `raft-otel status` during the partition',
    });
    const key = str(stale.p, ATTR.key);
    const newerTerm = num(stale.newer, ATTR.term) ?? 0;
    const sts = await ctx.statuses();
    const leader = agreedLeader(sts);
    const behind = [...sts.entries()].filter(([, st]) => !st || st.term < newerTerm).map(([id]) => id);
    if (key !== undefined && leader && !behind.length) {
      const node = ctx.nodes.find((n) => n.id === leader.id)!;
      const r = await call(node, 'GET', `/kv/${encodeURIComponent(key)}`);
      findings.push({
        ok: r.status === 404,
        what: `after healing, every node is in term ${newerTerm} or later and the minority's write is gone: GET ${key} answers ${r.status} (the entry at index ${num(stale.p, ATTR.logIndex)} was overwritten by the majority's log)`,
        traceId: stale.p.traceId,
        next: `the key ${key} exists: use a key that nothing else writes (split-brain in the README), on a cluster that never had it`,
      });
    } else
      findings.push({
        ok: false,
        what: `after healing, every node moves to term ${newerTerm} or later and follows one leader, and the minority's write is gone`,
        next: behind.length
          ? `${list(behind)} ${behind.length > 1 ? 'are' : 'is'} behind or not answering: \`raft-otel heal\`, wait a second`
          : 'no agreed leader: `raft-otel heal` and wait for a leader',
      });
  }

  // 3. PreVote off: a cut-off follower's term climbs, and it deposes the leader when it comes back.
  const byNode = new Map<string, FlatSpan[]>();
  for (const e of all.filter(
    (x) => !hadPreVote(x) && outcome(x) !== 'won' && !x.events.some((ev) => /leadership transfer/.test(ev.name)),
  )) {
    byNode.set(nodeOf(e), [...(byNode.get(nodeOf(e)) ?? []), e]);
  }
  const climber = [...byNode.entries()]
    .map(([node, es]) => ({
      node,
      es,
      terms: [...new Set(es.map((e) => num(e, ATTR.term) ?? 0))].sort((a, b) => a - b),
    }))
    .filter((x) => x.terms.length >= 3)
    .sort((a, b) => b.terms.length - a.terms.length)[0];
  const top = climber ? climber.terms[climber.terms.length - 1] : 0;
  // Its climb drags the cluster's term up to its own: a win in that term (by it, now that it can be
  // heard, or by another node that had to follow it there) or a later one is the forced election.
  const deposed = climber && won.find((e) => (num(e, ATTR.term) ?? 0) >= top && e.startMs > climber.es[0].startMs);
  findings.push({
    ok: climber !== undefined,
    what: climber
      ? `PreVote off: ${climber.node}, cut off, stood for election ${climber.terms.length} times with no pre-vote round, raising its term to ${top} (terms ${climber.terms.slice(0, 6).join(', ')}${climber.terms.length > 6 ? ', ...' : ''})`
      : 'PreVote off: a cut-off follower stands for election again and again, raising its term each time',
    traceId: climber?.es[0].traceId,
    next: 'restart the cluster with PreVote off (`raft-otel down`, then `RAFT_PRE_VOTE=false npm start`), cut a follower off (`raft-otel partition <follower> <the others>`), wait three seconds, `raft-otel heal`',
  });
  if (climber)
    findings.push({
      ok: deposed !== undefined,
      what: deposed
        ? `when it came back, its term ${top} forced a new election: ${nodeOf(deposed)} won term ${num(deposed, ATTR.term)}, replacing a leader that had done nothing wrong`
        : `after healing, a new election in term ${top} or later (PreVote would have prevented it)`,
      traceId: deposed?.traceId,
      next: 'heal the partition (`raft-otel heal`) and wait a second',
    });
  const down = [...(await ctx.statuses()).entries()].filter(([, s]) => !s).map(([id]) => id);
  if (down.length) ctx.warn(`${list(down)} not answering`);
  return findings;
}

export const exercise: Exercise = {
  id: '05',
  slug: '05-partitions',
  title: 'Partitions and split brain',
  question: 'What happens to a leader cut off from the majority, and what do CheckQuorum and PreVote change?',
  needs: ['election', 'write'],
  needsStart: true,
  check,
};

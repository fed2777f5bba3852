// Exercise 08, a server replaced: a member that lost its disk is removed, and a new server joins
// under a new id: added as a learner, caught up, promoted to voter (thesis §4.1).
// (exercises/08-server-replaced/)
import type { NodeStatus } from '../api/status.js';
import type { FlatSpan } from '../traces/otlp.js';
import { agreedLeader } from './nodes.js';
import { ATTR, SPAN, byStart, list, nodeOf, num, str } from './spans.js';
import type { CheckContext, Exercise, Finding } from './types.js';

/** The configuration changes in the spans, one per (change, node, log index), earliest first. */
export function membershipChanges(spans: FlatSpan[]): FlatSpan[] {
  const seen = new Set<string>();
  return byStart(spans.filter((s) => s.name === SPAN.membership)).filter((s) => {
    const k = `${str(s, 'raft.membership.change')}/${str(s, 'raft.membership.node')}/${num(s, ATTR.logIndex)}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function change(spans: FlatSpan[], type: string, node: string): FlatSpan | undefined {
  return spans.find((s) => str(s, 'raft.membership.change') === type && str(s, 'raft.membership.node') === node);
}

function membersOf(st: NodeStatus | null | undefined): string[] {
  return st ? [...st.members.voters, ...st.members.learners] : [];
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const startIds = new Set<string>();
  for (const n of ctx.start?.nodes ?? []) {
    startIds.add(n.id);
    for (const id of membersOf(n.status)) startIds.add(id);
  }
  const startVoters = [...new Set((ctx.start?.nodes ?? []).flatMap((n) => n.status?.members.voters ?? [n.id]))].sort();
  const sts = await ctx.statuses();
  const leader = agreedLeader(sts);
  const now = leader ? sts.get(leader.id)! : null;
  if (!now)
    return [
      {
        ok: false,
        what: 'the cluster has a leader every node agrees on (to read the configuration from)',
        next: 'wait a moment for an election (`raft-otel status`), then check again',
      },
    ];
  const changes = membershipChanges(
    (await ctx.traces({ operation: SPAN.membership, limit: 200 })).flatMap((t) => t.spans),
  ).filter((s) => s.startMs >= ctx.since);
  const findings: Finding[] = [];

  // 1. A member of the start's configuration is gone, by a committed removal.
  const removed = startVoters.filter((id) => !now.members.voters.includes(id) && !now.members.learners.includes(id));
  const removal = removed.map((id) => change(changes, 'remove', id)).find((s) => s !== undefined);
  findings.push({
    ok: removal !== undefined,
    what: removal
      ? `${str(removal, 'raft.membership.node')} was removed (a committed configuration at index ${num(removal, ATTR.logIndex)}; voters then: ${str(removal, 'raft.voters')})`
      : `one of the voters at the start (${list(startVoters)}) was removed from the configuration (a raft.membership_change "remove")`,
    traceId: removal?.traceId,
    next: 'kill a follower and delete its data (`raft-otel kill n3`, `rm -rf data/n3`), then `raft-otel members remove n3`',
  });

  // 2. A new id: added as a learner, then promoted, one change at a time.
  const newcomers = now.members.voters.filter((id) => !startIds.has(id));
  const added = newcomers
    .map((id) => ({ id, learner: change(changes, 'add_learner', id), promoted: change(changes, 'promote', id) }))
    .find((x) => x.learner && x.promoted);
  findings.push({
    ok: added !== undefined,
    what: added
      ? `${added.id}, an id the cluster had never had, joined as a learner (index ${num(added.learner!, ATTR.logIndex)}) and was promoted to voter once caught up (index ${num(added.promoted!, ATTR.logIndex)})`
      : `a server with a new id joined as a learner and was promoted to voter (raft.membership_change "add_learner", then "promote"); voters now: ${list(now.members.voters)}`,
    traceId: added?.promoted?.traceId,
    next: 'add a server under a NEW id: `raft-otel members add n4` (a returning id is refused: it could vote twice in a term it forgot)',
  });
  if (added) {
    findings.push({
      ok: num(added.learner!, ATTR.logIndex)! < num(added.promoted!, ATTR.logIndex)!,
      what: `the promotion came after the learner phase, as its own configuration entry (one change at a time)`,
      traceId: added.promoted!.traceId,
    });
    // 3. The newcomer has the history: applied a write made before it joined, and serves.
    const st = sts.get(added.id);
    const writes = await ctx.traces({ operation: SPAN.apply, node: added.id, limit: 200 });
    const before = writes.find((t) =>
      t.spans.some(
        (s) =>
          s.name === SPAN.propose &&
          s.startMs < added.learner!.startMs &&
          s.startMs >= ctx.since &&
          nodeOf(s) !== added.id,
      ),
    );
    findings.push({
      ok:
        before !== undefined &&
        st !== null &&
        st !== undefined &&
        st.commitIndex >= num(added.promoted!, ATTR.logIndex)!,
      what: `${added.id} caught up: it applied a write made before it joined (its raft.apply in that write's trace) and has committed past its promotion (commit index ${st?.commitIndex ?? '?'})`,
      traceId: before?.traceId,
      next: before
        ? `${added.id} does not answer: is it running? (\`raft-otel status\`)`
        : `write something before adding the new server (\`raft-otel kv put before-replace 1\`), so its catch-up shows in that write's trace`,
    });
  }
  return findings;
}

export const exercise: Exercise = {
  id: '08',
  slug: '08-server-replaced',
  title: 'A server replaced',
  question:
    'A server lost its disk: how does a new one take its place without risking two leaders, and why under a new id?',
  needsStart: true,
  needs: ['admin', 'write'],
  check,
};

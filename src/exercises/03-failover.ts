// Exercise 03, failover: kill the leader (a crash), watch the survivors elect a new one; bring the
// old leader back and watch it catch up as a follower; then stop the new leader gracefully
// (SIGTERM: it hands leadership over with TimeoutNow) and compare the two elections.
// (exercises/03-failover/)
import type { FlatSpan } from '../traces/otlp.js';
import { agreedLeader } from './nodes.js';
import {
  ATTR,
  SPAN,
  bool,
  elections,
  hadPreVote,
  hasEvent,
  list,
  ms,
  nodeOf,
  num,
  outcome,
  peerOf,
  str,
} from './spans.js';
import type { CheckContext, Exercise, Finding, Trace } from './types.js';

const RV = SPAN.rpc('RequestVote');

/** The RequestVote CLIENT spans of an election that failed to reach `peer`. */
function failedAsks(t: Trace | undefined, election: FlatSpan, peer: string): FlatSpan[] {
  return (t?.spans ?? []).filter(
    (s) =>
      s.name === RV &&
      s.kind === 'CLIENT' &&
      s.parentSpanId === election.spanId &&
      peerOf(s) === peer &&
      s.status.code === 'ERROR',
  );
}

/** When the leader sent TimeoutNow (its event on the transfer span), else the span's start. */
function timeoutNowAt(transfer: FlatSpan): number {
  return transfer.events.find((e) => /TimeoutNow sent/.test(e.name))?.timeMs ?? transfer.startMs;
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const first = ctx.start?.nodes.find((n) => n.status?.role === 'leader');
  if (!first?.status)
    return [
      {
        ok: false,
        what: 'a leader when the exercise started',
        next: 'no node was leader at `exercise start`: wait for a leader (`raft-otel status`), then `raft-otel exercise start 3` again',
      },
    ];
  const old = first.id;
  const findings: Finding[] = [{ ok: true, what: `${old} led term ${first.status.term} when the exercise started` }];
  const electionTraces = await ctx.traces({ operation: SPAN.election, limit: 1000 });
  const won = elections(electionTraces).filter((e) => outcome(e) === 'won');
  const traceOf = (e: FlatSpan) => electionTraces.find((t) => t.traceId === e.traceId);

  // 1. The crash: an election won by a survivor whose vote request to the old leader failed.
  const crash = won.find((e) => nodeOf(e) !== old && failedAsks(traceOf(e), e, old).length > 0);
  if (!crash) {
    findings.push({
      ok: false,
      what: `after ${old} crashed, a survivor won an election in which its vote request to ${old} failed`,
      traceId: won[0]?.traceId,
      next: `kill the leader: \`raft-otel kill ${old}\`, and wait for a new leader (\`raft-otel status\`)`,
    });
    return findings;
  }
  const failed = failedAsks(traceOf(crash), crash, old)[0];
  findings.push({
    ok: true,
    what: `crash: ${nodeOf(crash)} won term ${num(crash, ATTR.term)}; its ${bool(failed, ATTR.preVote) ? 'pre-vote' : 'vote'} request to ${old} failed (${str(failed, ATTR.rpcStatus) ?? 'error'}): ${old} was dead. The election took ${ms(crash.endMs - crash.startMs)}, after the followers had waited an election timeout without heartbeats`,
    traceId: crash.traceId,
  });

  // 2. Catch-up: a write committed while the old leader was down, later applied on it.
  const writes = await ctx.traces({ operation: SPAN.commit, limit: 1000 });
  const caughtUp = writes.find((t) => {
    const commit = t.spans.find((s) => s.name === SPAN.commit);
    const apply = t.spans.find((s) => s.name === SPAN.apply && nodeOf(s) === old);
    if (!commit || !apply || commit.startMs < crash.startMs || apply.startMs < commit.startMs) return false;
    const sentBefore = t.spans.some(
      (s) =>
        s.name === SPAN.rpc('AppendEntries') && s.kind === 'SERVER' && nodeOf(s) === old && s.startMs < commit.startMs,
    );
    return !sentBefore;
  });
  findings.push({
    ok: caughtUp !== undefined,
    what: `catch-up: a write committed while ${old} was down was applied on ${old} after it came back (a raft.apply span of ${old} in that write's trace)`,
    traceId: caughtUp?.traceId,
    next: `while ${old} is down, write something (\`raft-otel kv put after-crash 1\`), then \`raft-otel restart ${old}\`, and check again`,
  });

  // 3. The graceful stop: a transfer, then the target's election without a pre-vote round.
  const transfers = (await ctx.traces({ operation: SPAN.transfer })).flatMap((t) =>
    t.spans.filter((s) => s.name === SPAN.transfer && s.startMs > crash.startMs),
  );
  const handed = transfers.find((s) => hasEvent(s, /TimeoutNow sent/));
  const target = handed && str(handed, 'raft.transfer.target');
  const byTransfer = handed
    ? won.find((e) => nodeOf(e) === target && e.startMs >= handed.startMs && hasEvent(e, /\(leadership transfer\)/))
    : undefined;
  findings.push({
    ok: handed !== undefined,
    what: handed
      ? `graceful stop: ${nodeOf(handed)} handed leadership to ${target} (raft.transfer_leadership, "TimeoutNow sent")`
      : 'graceful stop: the leader handed leadership over before stopping (a raft.transfer_leadership span)',
    traceId: handed?.traceId,
    next: `stop the current leader gracefully: \`kill -TERM <its pid>\` (the pid is in \`raft-otel status\`), or \`raft-otel transfer-leadership\`. Then \`raft-otel restart <it>\``,
  });
  if (handed)
    findings.push({
      ok: byTransfer !== undefined && !hadPreVote(byTransfer),
      what: byTransfer
        ? `${target} won term ${num(byTransfer, ATTR.term)} with no pre-vote round, ${ms(byTransfer.endMs - timeoutNowAt(handed))} after the TimeoutNow was sent: no election timeout to wait out (after the crash, the followers first waited a whole election timeout${hadPreVote(crash) ? ', then ran a pre-vote round' : ''})`
        : `${target} won the election the transfer started ("candidate in term ... (leadership transfer)")`,
      traceId: byTransfer?.traceId ?? handed.traceId,
      next: `${target}'s election span is not in the traces yet: check again in a few seconds`,
    });

  const sts = await ctx.statuses();
  const leader = agreedLeader(sts);
  const oldNow = sts.get(old);
  findings.push({
    ok: oldNow !== null && oldNow !== undefined && leader !== null && oldNow.term === leader.term,
    what: `${old} is back in the cluster: it knows the leader ${leader?.id ?? '?'} of term ${leader?.term ?? '?'} (its /status: ${oldNow ? `${oldNow.role}, term ${oldNow.term}, applied ${oldNow.lastApplied}` : 'no answer'})`,
    next: oldNow
      ? 'the nodes do not agree on a leader yet: wait a second and check again'
      : `restart it: \`raft-otel restart ${old}\``,
  });
  const down = [...sts.entries()].filter(([, s]) => !s).map(([id]) => id);
  if (down.length)
    ctx.warn(`${list(down)} not answering: restart ${down.length > 1 ? 'them' : 'it'} before the next exercise`);
  return findings;
}

export const exercise: Exercise = {
  id: '03',
  slug: '03-failover',
  title: 'Failover',
  question: 'When the leader dies, how long until there is a new one, and why is a graceful handover faster?',
  needs: ['election', 'write', 'admin'],
  needsStart: true,
  check,
};

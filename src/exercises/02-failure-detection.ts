// Exercise 02, failure detection: with heartbeats traced, pause a follower, kill it, then cut it
// off, and tell the three apart from the leader's heartbeat spans alone: a paused (slow) node's
// heartbeats time out (DEADLINE_EXCEEDED after the RPC deadline), a dead node's fail at once
// (UNAVAILABLE: connection refused), a cut-off node's are dropped by the injected fault (UNAVAILABLE
// with a "chaos: request dropped (link to ... is cut)" event). (exercises/02-failure-detection/)
import type { FlatSpan } from '../traces/otlp.js';
import { agreedLeader } from './nodes.js';
import { ATTR, SPAN, hasEvent, isHeartbeat, list, ms, nodeOf, peerOf, str } from './spans.js';
import type { CheckContext, Exercise, Finding } from './types.js';

const AE = SPAN.rpc('AppendEntries');
const RESTART =
  'down the cluster (`raft-otel down`), start it with heartbeats traced (`RAFT_SAMPLE_HEARTBEATS=1 npm start`), then `raft-otel exercise start 2` again';

function isHeartbeatCall(s: FlatSpan): boolean {
  return s.name === AE && s.kind === 'CLIENT' && isHeartbeat(s);
}

const isCut = (s: FlatSpan) => hasEvent(s, /^chaos: request dropped \(link to .* is cut\)/);

async function heartbeats(ctx: CheckContext, status: string): Promise<FlatSpan[]> {
  const traces = await ctx.traces({ operation: AE, attributes: { [ATTR.rpcStatus]: status }, limit: 1000 });
  return traces.flatMap((t) => t.spans).filter((s) => isHeartbeatCall(s) && str(s, ATTR.rpcStatus) === status);
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const [ok, timedOut, unavailable] = await Promise.all([
    heartbeats(ctx, 'OK'),
    heartbeats(ctx, 'DEADLINE_EXCEEDED'),
    heartbeats(ctx, 'UNAVAILABLE'),
  ]);
  if (!ok.length && !timedOut.length && !unavailable.length)
    return [
      {
        ok: false,
        what: 'heartbeats are traced (AppendEntries CLIENT spans with raft.heartbeat = true)',
        next: `none since \`exercise start\`: heartbeats are not traced by default (they would drown everything). ${RESTART}`,
      },
    ];
  const findings: Finding[] = [
    {
      ok: true,
      what: `heartbeats are traced: ${ok.length} answered heartbeats (rpc.status_code = OK) since the start`,
      traceId: ok[0]?.traceId,
    },
  ];
  const describe = (spans: FlatSpan[]) =>
    spans.length
      ? `${spans.length} from ${list([...new Set(spans.map(nodeOf))])} to ${list([...new Set(spans.map((s) => peerOf(s) ?? '?'))])}, each about ${ms(median(spans.map((s) => s.endMs - s.startMs)))}`
      : 'none';
  findings.push({
    ok: timedOut.length > 0,
    what: `slow: heartbeats to a paused follower time out (rpc.status_code = DEADLINE_EXCEEDED): ${describe(timedOut)}`,
    traceId: timedOut[0]?.traceId,
    next: 'pause a follower for a few seconds (`raft-otel pause <follower>`, then `raft-otel resume <follower>`), and check again',
  });
  const dead = unavailable.filter((s) => !isCut(s));
  findings.push({
    ok: dead.length > 0,
    what: `dead: heartbeats to a killed follower fail at once, refused (rpc.status_code = UNAVAILABLE, no chaos event): ${describe(dead)}`,
    traceId: dead[0]?.traceId,
    next: 'kill a follower (`raft-otel kill <follower>`), wait two seconds, restart it (`raft-otel restart <follower>`), and check again',
  });
  const cut = unavailable.filter(isCut);
  findings.push({
    ok: cut.length > 0,
    what: `cut off: heartbeats to a cut-off follower never leave the leader ("chaos: request dropped (link to ... is cut)" event, UNAVAILABLE): ${describe(cut)}`,
    traceId: cut[0]?.traceId,
    next: 'cut a follower off (`raft-otel partition <follower> <the others, comma-separated>`), wait two seconds, `raft-otel heal`, and check again',
  });
  const sts = await ctx.statuses();
  const leader = agreedLeader(sts);
  const down = [...sts.entries()].filter(([, s]) => !s).map(([id]) => id);
  findings.push({
    ok: leader !== null && down.length === 0,
    what: `every node is back and follows one leader${leader ? ` (${leader.id}, term ${leader.term})` : ''}`,
    next: down.length
      ? `${list(down)} ${down.length > 1 ? 'do' : 'does'} not answer: \`raft-otel resume\` or \`raft-otel restart\` it, and \`raft-otel heal\``
      : 'the nodes do not agree on a leader yet: `raft-otel heal`, wait a second, check again',
  });
  return findings;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export const exercise: Exercise = {
  id: '02',
  slug: '02-failure-detection',
  title: 'Failure detection',
  question: 'How does a leader tell a slow follower from a dead one or a cut-off one, and can it?',
  needs: ['heartbeat'],
  needsStart: true,
  check,
};

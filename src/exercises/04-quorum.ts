// Exercise 04, quorum and availability: with one of three nodes down, writes still commit (two is a
// majority); with two down, the lone node refuses writes at once (503) instead of hanging, and its
// term does not climb while it keeps asking for pre-votes (PreVote); once the nodes are back, a
// leader is elected and every write that was acknowledged is still there. (exercises/04-quorum/)
import { call } from '../cli/http.js';
import type { FlatSpan } from '../traces/otlp.js';
import { agreedLeader } from './nodes.js';
import { ATTR, SPAN, elections, eventsOf, list, ms, nodeOf, num, peerOf, str } from './spans.js';
import type { CheckContext, Exercise, Finding, Trace } from './types.js';

const WRITE_OPS = ['PUT /kv/{key}', 'DELETE /kv/{key}', 'POST /kv/{key}/cas'];
const PRE_ROUND = /^pre-candidate: asking for pre-votes/;

/** The client's request span: the trace's root, on the node the client reached. */
function rootHttp(t: Trace): FlatSpan | undefined {
  return t.spans.find((s) => !s.parentSpanId && s.kind === 'SERVER' && WRITE_OPS.includes(s.name));
}

async function writeTraces(ctx: CheckContext, status: string): Promise<Trace[]> {
  const answers = await Promise.all(
    WRITE_OPS.map((operation) =>
      ctx.traces({ operation, attributes: { 'http.response.status_code': status }, limit: 1000 }),
    ),
  );
  return answers.flat().filter((t) => String(rootHttp(t)?.attributes['http.response.status_code']) === status);
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const [acked, refused, electionTraces] = await Promise.all([
    writeTraces(ctx, '200'),
    writeTraces(ctx, '503'),
    ctx.traces({ operation: SPAN.election, limit: 1000 }),
  ]);

  // One down: a write acknowledged although the leader could not reach one follower.
  const withOneDown = acked.find((t) =>
    t.spans.some(
      (s) => s.name === SPAN.rpc('AppendEntries') && s.kind === 'CLIENT' && str(s, ATTR.rpcStatus) === 'UNAVAILABLE',
    ),
  );
  const unreachable = withOneDown?.spans.find(
    (s) => s.name === SPAN.rpc('AppendEntries') && s.kind === 'CLIENT' && str(s, ATTR.rpcStatus) === 'UNAVAILABLE',
  );
  findings.push({
    ok: withOneDown !== undefined,
    what: withOneDown
      ? `one node down: a write was acknowledged (200) although its AppendEntries to ${unreachable ? peerOf(unreachable) : '?'} failed: two of three is a majority`
      : 'one node down: a write is still acknowledged (200), committed by the two that remain',
    traceId: withOneDown?.traceId,
    next: 'kill one follower (`raft-otel kill <follower>`), then write: `raft-otel kv put a 1`',
  });

  // Two down: refused at once.
  const fast = refused
    .map((t) => ({ t, root: rootHttp(t)! }))
    .filter(({ root }) => root.endMs - root.startMs < 1000)
    .sort((a, b) => a.root.startMs - b.root.startMs);
  findings.push({
    ok: fast.length > 0,
    what: fast.length
      ? `two nodes down: a write was refused at once, 503 in ${ms(fast[0].root.endMs - fast[0].root.startMs)} (no leader: nothing can commit)`
      : 'two nodes down: a write is refused at once (503, in well under a second), not left hanging',
    traceId: fast[0]?.t.traceId,
    next: 'kill the second follower, wait two seconds (the leader steps down when it cannot hear a majority), then write: `raft-otel kv put b 2` (it must fail)',
  });

  // The lone node's pre-vote rounds, all for one term.
  const lone = elections(electionTraces)
    .map((e) => ({ e, rounds: eventsOf(e).filter((x) => PRE_ROUND.test(x.name)).length }))
    .filter(({ rounds }) => rounds >= 3)
    .sort((a, b) => b.rounds - a.rounds)[0];
  findings.push({
    ok: lone !== undefined,
    what: lone
      ? `PreVote: ${nodeOf(lone.e)} asked for pre-votes ${lone.rounds} times over ${ms(lone.e.endMs - lone.e.startMs)}, all for term ${num(lone.e, ATTR.term)}: with no majority to grant them, its term never climbed`
      : 'PreVote: the lone node keeps asking for pre-votes (one raft.election span, many "pre-candidate" events) without raising its term',
    traceId: lone?.e.traceId,
    next: 'leave the lone node alone for a few seconds (its election span ends, and is exported, only when the others come back), then restart the two: `raft-otel restart <id>` each',
  });
  const steppedDown = (await ctx.traces({ operation: 'raft.check_quorum' })).flatMap((t) =>
    t.spans.filter((s) => s.name === 'raft.check_quorum'),
  );
  if (steppedDown.length)
    findings.push({
      ok: true,
      what: `CheckQuorum: ${nodeOf(steppedDown[0])} stepped down as leader when it heard from only ${String(steppedDown[0].attributes['raft.check_quorum.active'] ?? '?')} of the ${String(steppedDown[0].attributes['raft.check_quorum.needed'] ?? '?')} it needs`,
      traceId: steppedDown[0].traceId,
    });

  // Recovery.
  const sts = await ctx.statuses();
  const leader = agreedLeader(sts);
  const down = [...sts.entries()].filter(([, s]) => !s).map(([id]) => id);
  findings.push({
    ok: leader !== null && down.length === 0,
    what: `recovery: every node is back and follows one leader${leader ? ` (${leader.id}, term ${leader.term})` : ''}`,
    next: down.length
      ? `restart ${list(down)}: \`raft-otel restart <id>\``
      : 'no agreed leader yet: wait a second and check again',
  });
  if (!leader) return findings;

  // Every acknowledged write is still there: the last acknowledged operation on each key decides.
  const last = new Map<string, { op: string; index: number; traceId: string }>();
  for (const t of acked) {
    const p = t.spans.find((s) => s.name === SPAN.propose);
    const key = p && str(p, ATTR.key);
    const index = p && num(p, ATTR.logIndex);
    if (!p || key === undefined || index === undefined) continue;
    const before = last.get(key);
    if (!before || before.index < index) last.set(key, { op: str(p, ATTR.op) ?? 'put', index, traceId: t.traceId });
  }
  if (!last.size) {
    findings.push({
      ok: false,
      what: 'every acknowledged write is still there',
      next: 'no acknowledged write since `exercise start`: write with all nodes up and with one down',
    });
    return findings;
  }
  const node = ctx.nodes.find((n) => n.id === leader.id)!;
  const lost: string[] = [];
  for (const [key, w] of last) {
    const r = await call(node, 'GET', `/kv/${encodeURIComponent(key)}`);
    const index = (r.body as { index?: number } | null)?.index ?? 0;
    const present = r.status === 200;
    const expected = w.op !== 'delete';
    if (present !== expected || (r.status === 200 && index < w.index))
      lost.push(`${key} (written at index ${w.index})`);
  }
  findings.push({
    ok: lost.length === 0,
    what: lost.length
      ? `acknowledged writes lost: ${lost.join(', ')}`
      : `every acknowledged write is still there: ${last.size} key${last.size > 1 ? 's' : ''} (${list([...last.keys()].slice(0, 5))}${last.size > 5 ? ', ...' : ''}) read back from ${leader.id}`,
    traceId: [...last.values()][0]?.traceId,
    next: 'an acknowledged write must survive any minority of failures: keep the traces and report this',
  });
  return findings;
}

export const exercise: Exercise = {
  id: '04',
  slug: '04-quorum',
  title: 'Quorum and availability',
  question: 'How many nodes can a cluster lose and still take writes, and what happens to the rest when it loses more?',
  needs: ['election', 'write'],
  needsStart: true,
  check,
};

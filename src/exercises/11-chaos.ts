// Exercise 11, chaos: each injected fault found in the traces. A dropped request (an errored CLIENT
// span with no SERVER span), a delayed one, a slow disk on one follower (off the commit's path) and
// on two (on it), a dropped reply (the receiver did the work), and a retried compare-and-set that an
// idempotency key answered once. (exercises/11-chaos/)
import type { FlatSpan } from '../traces/otlp.js';
import { ATTR, SPAN, bool, hasEvent, nodeOf, num, str } from './spans.js';
import type { CheckContext, Exercise, Finding, Trace } from './types.js';

const AE = SPAN.rpc('AppendEntries');
/** An fsync this slow is an injected one (a real one here takes well under 10 ms). */
export const SLOW_FSYNC_MS = 100;

function chaosSpan(traces: Trace[], kind: string, side: FlatSpan['kind']): FlatSpan | undefined {
  return traces
    .flatMap((t) => t.spans)
    .find((s) => s.kind === side && s.events.some((e) => e.attributes['raft.chaos.kind'] === kind));
}

/** In one write trace: the follower fsyncs that were slow, and whether the commit waited for one. */
export function slowDisks(t: Trace): { slow: FlatSpan[]; commitWaited: boolean; commit: FlatSpan } | null {
  const propose = t.spans.find((s) => s.name === SPAN.propose);
  const commit = t.spans.find((s) => s.name === SPAN.commit);
  if (!propose || !commit) return null;
  const leader = nodeOf(propose);
  const slow = t.spans.filter(
    (s) => s.name === SPAN.persist && nodeOf(s) !== leader && (num(s, ATTR.fsyncMs) ?? 0) >= SLOW_FSYNC_MS,
  );
  if (!slow.length) return null;
  const firstSlowEnd = Math.min(...slow.map((s) => s.endMs));
  return { slow, commitWaited: commit.startMs >= firstSlowEnd, commit };
}

/** Compare-and-sets applied on their leader, by idempotency key (or by key when none was sent). */
export function casApplies(
  traces: Trace[],
): { idem?: string; key: string; swapped: boolean; traceId: string; at: number }[] {
  const out: { idem?: string; key: string; swapped: boolean; traceId: string; at: number }[] = [];
  for (const t of traces) {
    const propose = t.spans.find((s) => s.name === SPAN.propose && str(s, ATTR.op) === 'cas');
    const apply = propose && t.spans.find((s) => s.name === SPAN.apply && nodeOf(s) === nodeOf(propose));
    const swapped = apply && bool(apply, 'raft.cas.swapped');
    if (!propose || swapped === undefined) continue;
    const idem = str(propose, 'raft.idempotency_key');
    out.push({
      ...(idem ? { idem } : {}),
      key: str(propose, ATTR.key) ?? '',
      swapped,
      traceId: t.traceId,
      at: propose.startMs,
    });
  }
  return out.sort((a, b) => a.at - b.at);
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const appends = (await ctx.traces({ operation: AE, limit: 500 })).map((t) => ({
    ...t,
    spans: t.spans.filter((s) => s.startMs >= ctx.since),
  }));

  const dropped = chaosSpan(appends, 'dropped_request', 'CLIENT');
  const droppedHasServer = dropped && appends.some((t) => t.spans.some((s) => s.parentSpanId === dropped.spanId));
  findings.push({
    ok: dropped !== undefined && !droppedHasServer,
    what: dropped
      ? `a dropped request: ${nodeOf(dropped)}'s AppendEntries to ${str(dropped, 'raft.peer.id')} failed (${str(dropped, ATTR.rpcStatus)}, "chaos: request dropped") and no SERVER span follows it: ${str(dropped, 'raft.peer.id')} never saw it`
      : 'a dropped request: an errored AppendEntries CLIENT span with the event "chaos: request dropped" and no SERVER span',
    traceId: dropped?.traceId,
    next: '`raft-otel chaos --drop 0.3`, then a few writes (`raft-otel kv put drop-1 a`), then `raft-otel chaos --off`',
  });

  const delayed = chaosSpan(appends, 'delayed', 'CLIENT');
  const delayMs = delayed?.events.map((e) => e.attributes['raft.chaos.delay_ms']).find((v) => typeof v === 'number');
  findings.push({
    ok: delayed !== undefined,
    what: delayed
      ? `a delayed request: ${nodeOf(delayed)}'s AppendEntries to ${str(delayed, 'raft.peer.id')} waited ${String(delayMs ?? '?')} ms before leaving ("chaos: delayed")`
      : 'a delayed request: an AppendEntries CLIENT span with the event "chaos: delayed N ms"',
    traceId: delayed?.traceId,
    next: '`raft-otel chaos --delay 20-80`, then a write, then `raft-otel chaos --off`',
  });

  const writes = await ctx.traces({ operation: SPAN.persist, limit: 500 });
  const disks = writes.map((t) => ({ t, d: slowDisks(t) })).filter((x) => x.d && x.d.commit.startMs >= ctx.since);
  const oneSlow = disks.find((x) => new Set(x.d!.slow.map(nodeOf)).size === 1 && !x.d!.commitWaited);
  findings.push({
    ok: oneSlow !== undefined,
    what: oneSlow
      ? `one slow disk: ${nodeOf(oneSlow.d!.slow[0])}'s fsync took ${num(oneSlow.d!.slow[0], ATTR.fsyncMs)} ms, yet the write committed before it finished: the leader and the other follower were a majority`
      : `one slow disk off the commit's path: a write whose commit came before one follower's slow fsync (≥ ${SLOW_FSYNC_MS} ms) ended`,
    traceId: oneSlow?.t.traceId,
    next: '`raft-otel chaos --slow-fsync 300 --node F1` (a follower), then `raft-otel kv put slow-1 a`',
  });
  const twoSlow = disks.find((x) => new Set(x.d!.slow.map(nodeOf)).size >= 2 && x.d!.commitWaited);
  findings.push({
    ok: twoSlow !== undefined,
    what: twoSlow
      ? `two slow disks: both followers' fsyncs were slow (${twoSlow.d!.slow.map((s) => `${nodeOf(s)} ${num(s, ATTR.fsyncMs)} ms`).join(', ')}), and the commit waited for one of them`
      : `two slow disks: a write whose commit waited for a slow follower fsync, both followers being slow`,
    traceId: twoSlow?.t.traceId,
    next: '`raft-otel chaos --slow-fsync 300 --node F2` too (both followers), then `raft-otel kv put slow-2 a`',
  });

  const replyDropped = chaosSpan(appends, 'dropped_reply', 'SERVER');
  const didWork =
    replyDropped &&
    appends.some((t) => t.spans.some((s) => s.name === SPAN.persist && s.parentSpanId === replyDropped.spanId));
  findings.push({
    ok: replyDropped !== undefined,
    what: replyDropped
      ? `a dropped reply: ${nodeOf(replyDropped)} handled ${str(replyDropped, ATTR.leaderId) ?? 'the leader'}'s AppendEntries${didWork ? ' (its raft.persist is there: the entries are on its disk)' : ''}, then its reply was dropped ("chaos: reply dropped after the handler ran")`
      : 'a dropped reply: an AppendEntries SERVER span with the event "chaos: reply dropped after the handler ran"',
    traceId: replyDropped?.traceId,
    next: '`raft-otel chaos --drop-reply 0.5`, then a write, then `raft-otel chaos --off`',
  });
  if (replyDropped && !hasEvent(replyDropped, /reply dropped/))
    ctx.warn('the dropped reply was found by its raft.chaos.kind attribute, not its event text');

  const cas = casApplies(
    await ctx.traces({ operation: SPAN.propose, attributes: { [ATTR.op]: 'cas' }, limit: 300 }),
  ).filter((c) => c.at >= ctx.since);
  const byIdem = new Map<string, typeof cas>();
  for (const c of cas) if (c.idem) byIdem.set(c.idem, [...(byIdem.get(c.idem) ?? []), c]);
  const retried = [...byIdem.values()].find((l) => l.length >= 2 && l.every((c) => c.swapped));
  findings.push({
    ok: retried !== undefined,
    what: retried
      ? `an idempotent retry: the compare-and-set with Idempotency-Key "${retried[0].idem}" was proposed ${retried.length} times (${retried.length} log entries) and every apply answered swapped=true: the first result, replayed, not a second swap`
      : 'an idempotent retry: one compare-and-set sent twice with the same Idempotency-Key, both answered with the first result (raft.cas.swapped=true twice)',
    traceId: retried?.[1]?.traceId,
    next: '`raft-otel kv cas ticket-42 - paid --idempotency-key pay-42`, twice',
  });
  const plain = cas.filter((c) => !c.idem);
  const again = plain.find((c, i) => c.swapped && plain.slice(i + 1).some((d) => d.key === c.key && !d.swapped));
  findings.push({
    ok: again !== undefined,
    what: again
      ? `the same retry without a key: the second compare-and-set on "${again.key}" was applied again and answered swapped=false; the client cannot tell whether its first attempt worked`
      : 'a retry without a key: the same compare-and-set sent twice, the second applied again (raft.cas.swapped=false)',
    traceId: again ? plain.find((d) => d.key === again.key && !d.swapped)?.traceId : undefined,
    next: '`raft-otel kv cas ticket-43 - paid`, twice',
  });
  ctx.warn('faults stay on until removed: `raft-otel chaos --off` when you are done');
  return findings;
}

export const exercise: Exercise = {
  id: '11',
  slug: '11-chaos',
  title: 'Chaos',
  question:
    'When the network drops and delays messages and disks get slow, what does Raft do about each fault, and where is each one in the traces?',
  needsStart: true,
  needs: ['write'],
  check,
};

// Exercise 09, a lock is a leader: Kleppmann's scenario. A holder's lease runs out while it is
// paused, the lock passes on with a larger fencing token, and the old holder's late write is refused
// because its token is older; the same write without a token is accepted and loses an update.
// (exercises/09-lock-is-a-leader/)
import type { FlatSpan } from '../traces/otlp.js';
import { ATTR, SPAN, byStart, num, str } from './spans.js';
import type { CheckContext, Exercise, Finding, Trace } from './types.js';

const FENCE_LOCK = 'raft.fence.lock';
const FENCE_TOKEN = 'raft.fence.token';

/** One write as the traces tell it: its proposal (what was asked) and its outcome on the leader. */
export interface WriteSeen {
  traceId: string;
  key: string;
  startMs: number;
  fence?: { lock: string; token: number };
  /** raft.result.code of its apply (fenced, unknown_fencing_token, ...), or undefined when applied. */
  refused?: string;
  applied: boolean;
}

/** The puts in the traces, from their proposal and apply spans, oldest first. */
export function puts(traces: Trace[]): WriteSeen[] {
  const out: WriteSeen[] = [];
  for (const t of traces) {
    const propose = t.spans.find((s) => s.name === SPAN.propose && str(s, ATTR.op) === 'put');
    if (!propose) continue;
    const applies = t.spans.filter((s) => s.name === SPAN.apply);
    if (!applies.length) continue;
    const code = applies.map((s) => str(s, ATTR.resultCode)).find((c) => c !== undefined);
    const lock = str(propose, FENCE_LOCK);
    const token = num(propose, FENCE_TOKEN);
    out.push({
      traceId: t.traceId,
      key: str(propose, ATTR.key) ?? '',
      startMs: propose.startMs,
      ...(lock !== undefined && token !== undefined ? { fence: { lock, token } } : {}),
      ...(code !== undefined ? { refused: code } : {}),
      applied: code === undefined,
    });
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

/** Granted acquisitions: the raft.apply of a lock_acquire that carries the token it issued. */
export function grants(traces: Trace[]): { lock: string; token: number; span: FlatSpan }[] {
  const seen = new Map<string, { lock: string; token: number; span: FlatSpan }>();
  for (const s of byStart(traces.flatMap((t) => t.spans))) {
    if (s.name !== SPAN.apply || str(s, ATTR.op) !== 'lock_acquire') continue;
    const token = num(s, ATTR.lockToken);
    if (token === undefined || str(s, ATTR.resultCode) !== undefined) continue;
    // The apply span of an acquisition has the token; the lock's name is on its proposal.
    const name = traces
      .find((t) => t.traceId === s.traceId)
      ?.spans.map((p) => str(p, ATTR.lockName))
      .find((n) => n !== undefined);
    if (!name) continue;
    const k = `${name}/${token}`;
    if (!seen.has(k)) seen.set(k, { lock: name, token, span: s });
  }
  return [...seen.values()].sort((a, b) => a.span.startMs - b.span.startMs);
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const lockTraces = await ctx.traces({ operation: SPAN.apply, attributes: { [ATTR.op]: 'lock_acquire' }, limit: 300 });
  const granted = grants(lockTraces).filter((g) => g.span.startMs >= ctx.since);
  // Two successive holders of one lock, the second with a larger token.
  let pair: { lock: string; t1: number; t2: number; traceId: string } | undefined;
  for (const g2 of granted)
    for (const g1 of granted)
      if (g1.lock === g2.lock && g1.token < g2.token && g1.span.startMs < g2.span.startMs)
        pair = { lock: g1.lock, t1: g1.token, t2: g2.token, traceId: g2.span.traceId };
  findings.push({
    ok: pair !== undefined,
    what: pair
      ? `lock "${pair.lock}" was held twice in turn: token ${pair.t1}, then ${pair.t2} after the first lease ran out (each acquisition a committed log entry)`
      : 'one lock was acquired by two holders in turn, the second getting a larger fencing token',
    traceId: pair?.traceId,
    next: '`raft-otel lock acquire orders --owner worker-1 --ttl-ms 3000`, wait 4 s, then `raft-otel lock acquire orders --owner worker-2`',
  });
  if (!pair) return findings;

  const writes = puts(
    await ctx.traces({ operation: SPAN.propose, attributes: { [ATTR.op]: 'put' }, limit: 500 }),
  ).filter((w) => w.startMs >= ctx.since);
  const lock = pair.lock;
  const newer = writes.find((w) => w.fence?.lock === lock && w.fence.token >= pair.t2 && w.applied);
  findings.push({
    ok: newer !== undefined,
    what: newer
      ? `the new holder wrote "${newer.key}" with its token ${newer.fence!.token}: applied`
      : `the new holder wrote with its token (X-Fencing-Token: ${lock}:${pair.t2}) and the write was applied`,
    traceId: newer?.traceId,
    next: `\`raft-otel kv put orders/total 200 --fencing-token ${lock}:${pair.t2}\``,
  });
  if (!newer) return findings;
  const fenced = writes.find(
    (w) =>
      w.key === newer.key &&
      w.startMs > newer.startMs &&
      w.fence?.lock === lock &&
      w.fence.token < newer.fence!.token &&
      w.refused === 'fenced',
  );
  findings.push({
    ok: fenced !== undefined,
    what: fenced
      ? `the old holder's late write to "${fenced.key}" with token ${fenced.fence!.token} was refused on every node: raft.result.code=fenced (a newer token, ${newer.fence!.token}, had been seen)`
      : `the old holder's late write to "${newer.key}", with its older token, was refused as fenced`,
    traceId: fenced?.traceId,
    next: `\`raft-otel kv put ${newer.key} 100 --fencing-token ${lock}:${pair.t1}\` (it should answer 409 fenced)`,
  });
  const unfenced = writes.find(
    (w) => w.key === newer.key && w.startMs > (fenced ?? newer).startMs && w.fence === undefined && w.applied,
  );
  findings.push({
    ok: unfenced !== undefined,
    what: unfenced
      ? `the same late write without a token was applied: it silently replaced the new holder's value (the lost update a token prevents)`
      : `the same late write without a token was accepted (nothing to compare, nothing refused)`,
    traceId: unfenced?.traceId,
    next: `\`raft-otel kv put ${newer.key} 100\` (no --fencing-token)`,
  });
  return findings;
}

export const exercise: Exercise = {
  id: '09',
  slug: '09-lock-is-a-leader',
  title: 'A lock is a leader',
  question:
    'What stops a lock holder that was paused past its lease from doing damage when it wakes up, and why must the storage check a fencing token?',
  needsStart: true,
  needs: ['write'],
  check,
};

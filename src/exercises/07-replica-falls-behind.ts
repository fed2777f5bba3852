// Exercise 07, a replica falls behind: a follower misses hundreds of entries; a new leader's first
// append to it is rejected with a conflict hint and the next one starts where the hint says (one
// round trip, not one per missing entry); with frequent snapshots the leader sends InstallSnapshot
// instead. (exercises/07-replica-falls-behind/)
import type { FlatSpan } from '../traces/otlp.js';
import { TraceQueryClient } from '../traces/query-client.js';
import { ATTR, SPAN, bool, byStart, nodeOf, num, peerOf, str } from './spans.js';
import type { CheckContext, Exercise, Finding } from './types.js';

const AE = SPAN.rpc('AppendEntries');
const IS = SPAN.rpc('InstallSnapshot');

export interface Backtrack {
  rejected: FlatSpan;
  /** The first successful append to the same follower from the same leader after the rejection. */
  resumed: FlatSpan | undefined;
  /** Rejections of that follower by that leader between the first one and the resumption. */
  rejections: number;
}

/** The rejected appends in `spans` (CLIENT side, a reply carrying a conflict hint), oldest first. */
export function rejectedAppends(spans: FlatSpan[]): FlatSpan[] {
  return byStart(
    spans.filter(
      (s) =>
        s.name === AE &&
        s.kind === 'CLIENT' &&
        bool(s, ATTR.appendSuccess) === false &&
        num(s, ATTR.conflictIndex) !== undefined &&
        peerOf(s) !== undefined,
    ),
  );
}

/** For a rejection, the append that resumed replication to that follower: successful, from the same
 *  leader in the same term, after the rejection, starting below the rejected position. */
export function backtrack(rejected: FlatSpan, spans: FlatSpan[]): Backtrack {
  const leader = nodeOf(rejected);
  const peer = peerOf(rejected);
  const term = num(rejected, ATTR.term);
  const rejectedAt = num(rejected, ATTR.prevLogIndex) ?? Infinity;
  const sameLink = (s: FlatSpan) =>
    s.name === AE && s.kind === 'CLIENT' && nodeOf(s) === leader && peerOf(s) === peer && num(s, ATTR.term) === term;
  const resumed = byStart(
    spans.filter(
      (s) =>
        sameLink(s) &&
        s.startMs >= rejected.startMs &&
        bool(s, ATTR.appendSuccess) === true &&
        (num(s, ATTR.prevLogIndex) ?? Infinity) < rejectedAt,
    ),
  )[0];
  const until = resumed?.startMs ?? Infinity;
  const rejections = new Set(
    spans
      .filter(
        (s) =>
          sameLink(s) && bool(s, ATTR.appendSuccess) === false && s.startMs >= rejected.startMs && s.startMs <= until,
      )
      .map((s) => num(s, ATTR.prevLogIndex)),
  ).size;
  return { rejected, resumed, rejections };
}

/** A completed InstallSnapshot: the leader's CLIENT span with an OK status and the follower's
 *  SERVER span in the same trace. */
export function installedSnapshots(spans: FlatSpan[]): { client: FlatSpan; server: FlatSpan }[] {
  const servers = spans.filter((s) => s.name === IS && s.kind === 'SERVER' && s.status.code !== 'ERROR');
  return byStart(
    spans.filter((s) => s.name === IS && s.kind === 'CLIENT' && s.status.code !== 'ERROR' && peerOf(s) !== undefined),
  )
    .map((client) => ({ client, server: servers.find((s) => s.parentSpanId === client.spanId) }))
    .filter((x): x is { client: FlatSpan; server: FlatSpan } => x.server !== undefined);
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const sts = await ctx.statuses();

  // Part A: a rejection with a conflict hint, and the append that resumed right at the hint.
  const appends = (await ctx.traces({ operation: AE, attributes: { [ATTR.appendSuccess]: 'false' }, limit: 200 }))
    .flatMap((t) => t.spans)
    .filter((s) => s.startMs >= ctx.since);
  const rejected = rejectedAppends(appends);
  let best: Backtrack | undefined;
  for (const r of rejected) {
    const peer = peerOf(r)!;
    const hint = num(r, ATTR.conflictIndex)!;
    // The resuming append usually belongs to another write's trace: ask for the leader's appends to
    // that follower starting right at the hint (by exact attributes: a leader sends a caught-up
    // follower thousands of appends).
    const around = await ctx.traces({
      operation: AE,
      node: nodeOf(r),
      attributes: { 'raft.peer.id': peer, [ATTR.prevLogIndex]: String(hint - 1) },
      limit: 50,
    });
    // And every successful append to it in the seconds after the rejection (the leader may have
    // resumed elsewhere than right at the hint, e.g. when the follower's log conflicts).
    const after = await new TraceQueryClient(ctx.tracesUrl).findTraces({
      service: `raft-${nodeOf(r)}`,
      operation: AE,
      startMin: r.startMs - 1,
      startMax: Math.min(ctx.until, r.startMs + 10_000),
      attributes: { 'raft.peer.id': peer, [ATTR.appendSuccess]: 'true' },
      numTraces: 500,
    });
    const spans = [...appends, ...around.flatMap((t) => t.spans), ...after.flat()];
    const b = backtrack(r, spans);
    if (b.resumed && (num(b.resumed, ATTR.prevLogIndex) ?? -1) >= hint - 1) {
      best = b;
      break;
    }
    best ??= b;
  }
  if (!best) {
    findings.push({
      ok: false,
      what: 'a leader’s append to a follower that had fallen behind was rejected with a conflict hint (raft.append.success=false, raft.conflict.index)',
      next: 'stop a follower (`raft-otel kill F`), write a few hundred entries (`raft-otel bench --clients 8 --duration 3 --mix put=100`), move leadership to the other follower (`raft-otel transfer-leadership --to G`), write a key, then `raft-otel restart F` (README, Part A)',
    });
  } else {
    const r = best.rejected;
    const peer = peerOf(r)!;
    const hint = num(r, ATTR.conflictIndex)!;
    const hintTerm = num(r, ATTR.conflictTerm) ?? 0;
    const at = num(r, ATTR.prevLogIndex) ?? 0;
    findings.push({
      ok: true,
      what: `${nodeOf(r)} (term ${num(r, ATTR.term)}) sent ${peer} an append after index ${at}; ${peer} rejected it with the hint conflict index ${hint}${hintTerm ? `, term ${hintTerm}` : ' (term 0: its log just ends there)'}`,
      traceId: r.traceId,
    });
    const resumedAt = best.resumed ? num(best.resumed, ATTR.prevLogIndex) : undefined;
    findings.push({
      ok: best.resumed !== undefined && resumedAt !== undefined && resumedAt >= hint - 1,
      what: best.resumed
        ? `the next append to ${peer} started after index ${resumedAt}, right at the hint: ${at - (resumedAt ?? 0)} entries skipped back after ${best.rejections} rejected position(s) (without the hint: one round trip per entry), then accepted (${num(best.resumed, ATTR.entriesCount) ?? '?'} entries in that batch)`
        : `after the rejection, ${nodeOf(r)} resumed replication to ${peer} from the hint (a successful append with raft.prev_log.index = ${hint - 1})`,
      traceId: best.resumed?.traceId ?? r.traceId,
      next: `the resuming append is not in the traces yet: wait a few seconds and check again; if ${peer} is not running, \`raft-otel restart ${peer}\``,
    });
    const st = sts.get(peer);
    const sent = num(r, ATTR.logIndex) ?? at;
    findings.push({
      ok: st !== null && st !== undefined && st.commitIndex >= sent,
      what: `${peer} caught up: it now holds and has committed everything ${nodeOf(r)} was sending it (commit index ${st?.commitIndex ?? '?'} ≥ ${sent})`,
      next: `${st ? `${peer} has not caught up yet: check again in a moment` : `${peer} does not answer: \`raft-otel restart ${peer}\``}`,
    });
  }

  // Part B: InstallSnapshot to a follower too far behind for the log.
  const snapshots = installedSnapshots(
    (await ctx.traces({ operation: IS, limit: 200 })).flatMap((t) => t.spans).filter((s) => s.startMs >= ctx.since),
  );
  const sent = snapshots[snapshots.length - 1];
  if (!sent) {
    findings.push({
      ok: false,
      what: 'a leader sent a follower that had fallen behind its compacted log a snapshot (raft.Raft/InstallSnapshot, CLIENT and SERVER)',
      next: '`raft-otel down`, then `RAFT_SNAPSHOT_EVERY=100 npm start`; stop a follower, write a few hundred entries (`raft-otel bench --clients 8 --duration 3 --mix put=100`), then restart it (README, Part B)',
    });
  } else {
    const peer = peerOf(sent.client)!;
    const index = num(sent.client, ATTR.snapshotIndex) ?? 0;
    const st = sts.get(peer);
    findings.push({
      ok: true,
      what: `${nodeOf(sent.client)} sent ${peer} a snapshot up to index ${index} (${str(sent.client, ATTR.rpcStatus) ?? 'OK'}): the entries ${peer} needed were no longer in the leader's log`,
      traceId: sent.client.traceId,
    });
    findings.push({
      ok: st !== null && st !== undefined && st.snapshotIndex >= index && st.commitIndex >= index,
      what: `${peer} installed it: its log now begins after a snapshot at index ${st?.snapshotIndex ?? '?'} (≥ ${index}), and it has committed past it (${st?.commitIndex ?? '?'})`,
      next: st ? `check again in a moment` : `${peer} does not answer: \`raft-otel restart ${peer}\``,
    });
  }
  return findings;
}

export const exercise: Exercise = {
  id: '07',
  slug: '07-replica-falls-behind',
  title: 'A replica falls behind',
  question:
    'When a follower has missed hundreds of entries, how does the leader find where its log ends, and when does it send a snapshot instead?',
  needsStart: true,
  needs: ['write', 'snapshot'],
  check,
};

// Exercise 10, reads at scale: a linearizable read at a follower asks the leader for a read index
// (a ReadIndex RPC in its trace), a read at the leader needs no hop, a bounded-stale read at a
// follower answers from its own state; and a stale read is caught by the linearizability checker.
// (exercises/10-reads-at-scale/)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistory, type Op } from '../check/linearizability.js';
import type { FlatSpan } from '../traces/otlp.js';
import { localCluster } from './local-files.js';
import { ATTR, SPAN, nodeOf, num, peerOf, str } from './spans.js';
import type { CheckContext, Exercise, Finding, Trace } from './types.js';

const GET = 'GET /kv/{key}';
const READ_INDEX = SPAN.rpc('ReadIndex');

export interface ReadSeen {
  traceId: string;
  node: string;
  /** The leader the answering node named (X-Raft-Leader). */
  leader: string | undefined;
  /** The ReadIndex call the node made to the leader, if any. */
  readIndex: FlatSpan | undefined;
  span: FlatSpan;
}

/** The successful reads in the traces, with the ReadIndex hop each made (or not). */
export function reads(traces: Trace[]): ReadSeen[] {
  const out: ReadSeen[] = [];
  for (const t of traces) {
    for (const span of t.spans) {
      if (span.name !== GET || span.kind !== 'SERVER' || num(span, 'http.response.status_code') !== 200) continue;
      const readIndex = t.spans.find(
        (s) => s.name === READ_INDEX && s.kind === 'CLIENT' && s.parentSpanId === span.spanId,
      );
      out.push({ traceId: t.traceId, node: nodeOf(span), leader: str(span, ATTR.leaderId), readIndex, span });
    }
  }
  return out.sort((a, b) => a.span.startMs - b.span.startMs);
}

interface HistoryFile {
  reads?: string;
  maxStalenessMs?: number;
  history?: (Omit<Op, 'ret'> & { ret: number | null })[];
}

/** The newest `check-linearizable` history with stale reads written since `sinceMs`, re-checked here
 *  (the file's own verdict is not trusted). */
export function staleHistory(
  dataDir: string,
  sinceMs: number,
): { file: string; ops: number; linearizable: boolean; example?: string } | null {
  let names: string[];
  try {
    names = readdirSync(dataDir).filter((n) => /^history-.*\.json$/.test(n));
  } catch {
    return null;
  }
  const files = names
    .map((n) => ({ file: join(dataDir, n), mtime: statSync(join(dataDir, n)).mtimeMs }))
    .filter((f) => f.mtime >= sinceMs)
    .sort((a, b) => b.mtime - a.mtime);
  for (const { file } of files) {
    let h: HistoryFile;
    try {
      h = JSON.parse(readFileSync(file, 'utf8')) as HistoryFile;
    } catch {
      continue;
    }
    if (h.reads !== 'stale' || !Array.isArray(h.history)) continue;
    const ops: Op[] = h.history.map((o) => ({ ...o, ret: o.ret === null ? Infinity : o.ret }));
    const r = checkHistory(ops);
    const f = r.failures[0];
    return {
      file,
      ops: r.ops,
      linearizable: r.linearizable,
      ...(f ? { example: `key ${f.key}: ${describe(f.culprit)}` } : {}),
    };
  }
  return null;
}

function describe(op: Op): string {
  return `${op.kind} → ${JSON.stringify(op.result ?? op.value)} via ${op.node ?? '?'} at index ${op.index ?? '?'}`;
}

async function check(ctx: CheckContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const seen = reads(await ctx.traces({ operation: GET, limit: 500 })).filter((r) => r.span.startMs >= ctx.since);

  const atFollower = seen.find((r) => r.leader && r.node !== r.leader && r.readIndex);
  findings.push({
    ok: atFollower !== undefined,
    what: atFollower
      ? `a linearizable read at follower ${atFollower.node} asked leader ${peerOf(atFollower.readIndex!) ?? atFollower.leader} for the read index (raft.Raft/ReadIndex → ${num(atFollower.readIndex!, 'raft.read.index') ?? '?'}) before answering: ${(atFollower.span.endMs - atFollower.span.startMs).toFixed(1)} ms`
      : 'a linearizable read at a follower, with its raft.Raft/ReadIndex call to the leader in the trace',
    traceId: atFollower?.traceId,
    next: '`raft-otel kv get color --node F` (F: a follower, from `raft-otel status`)',
  });

  const atLeader = seen.find((r) => r.leader && r.node === r.leader && !r.readIndex);
  findings.push({
    ok: atLeader !== undefined,
    what: atLeader
      ? `a read at the leader ${atLeader.node} needed no hop (no ReadIndex call): ${(atLeader.span.endMs - atLeader.span.startMs).toFixed(1)} ms, one heartbeat round for a linearizable read, none for a lease read`
      : 'a read served by the leader itself (no ReadIndex call in its trace)',
    traceId: atLeader?.traceId,
    next: '`raft-otel kv get color --node L` and `raft-otel kv get color --node L --consistency lease` (L: the leader)',
  });

  const stale = seen.find((r) => r.leader && r.node !== r.leader && !r.readIndex);
  findings.push({
    ok: stale !== undefined,
    what: stale
      ? `a bounded-stale read at follower ${stale.node} answered from its own state, without asking the leader (no ReadIndex call): ${(stale.span.endMs - stale.span.startMs).toFixed(1)} ms`
      : 'a stale read at a follower: answered from its own state, no ReadIndex call in its trace',
    traceId: stale?.traceId,
    next: '`raft-otel kv get color --node F --consistency stale --max-staleness-ms 500`',
  });

  // The checker's run: local only (it kills and restarts processes); its history is re-checked here.
  const cluster = localCluster((await ctx.statuses()).values());
  if (!cluster) {
    ctx.warn(
      'check-linearizable runs against a local cluster only: the stale read caught by the checker is not checked here',
    );
    return findings;
  }
  const h = staleHistory(cluster.dataDir, ctx.since);
  findings.push({
    ok: h !== null && !h.linearizable,
    what: h
      ? h.linearizable
        ? `the stale-read run in ${h.file} (${h.ops} operations) happened to stay linearizable: no read was stale enough to catch`
        : `the linearizability checker caught a stale read in ${h.file} (${h.ops} operations re-checked: NOT linearizable; e.g. ${h.example ?? '?'})`
      : 'check-linearizable ran with stale reads and its history is not linearizable',
    next: h
      ? 'run it again, longer, or with a larger bound: `raft-otel check-linearizable --duration 20 --reads stale --max-staleness-ms 5000`'
      : '`raft-otel check-linearizable --duration 10 --reads stale --max-staleness-ms 2000`',
  });
  return findings;
}

export const exercise: Exercise = {
  id: '10',
  slug: '10-reads-at-scale',
  title: 'Reads at scale',
  question:
    'What does a linearizable read cost, what do a lease or a bounded staleness buy, and what do you give up for it?',
  needsStart: true,
  needs: ['read'],
  check,
};

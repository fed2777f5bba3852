// The two safety facts every `exercise check` asserts, whatever the exercise, from the spans of its
// window and the nodes' state:
//  - Election Safety (Raft §5.2): at most one leader is elected in a given term. From the
//    raft.election spans that ended "won" (grouped by raft.term), and from the nodes' /status (no
//    two nodes leaders of one term).
//  - State Machine Safety (§5.4.3): no two nodes apply different entries at one index. Each applied
//    entry is known by its index and term (Log Matching: same index and term means same entry), so
//    every raft.apply span for one raft.log.index must carry one raft.term.
import type { FlatSpan } from '../traces/otlp.js';
import { ATTR, SPAN, nodeOf, num, outcome, unique } from './spans.js';
import type { CheckContext, Finding } from './types.js';

const LIMIT = 2000;

export async function safetyFindings(ctx: CheckContext): Promise<Finding[]> {
  const [electionTraces, applyTraces, sts] = await Promise.all([
    ctx.traces({ operation: SPAN.election, limit: LIMIT }),
    ctx.traces({ operation: SPAN.apply, limit: LIMIT }),
    ctx.statuses(),
  ]);
  return [
    oneLeaderPerTerm(
      electionTraces.flatMap((t) => t.spans.filter((s) => s.name === SPAN.election)),
      [...sts.values()].flatMap((s) => (s?.role === 'leader' ? [{ id: s.id, term: s.term }] : [])),
    ),
    oneTermPerIndex(applyTraces.flatMap((t) => t.spans.filter((s) => s.name === SPAN.apply))),
  ];
}

export function oneLeaderPerTerm(electionSpans: FlatSpan[], leadersNow: { id: string; term: number }[]): Finding {
  const winners = new Map<number, { node: string; traceId: string }[]>();
  const add = (term: number, node: string, traceId: string) => {
    const w = winners.get(term) ?? [];
    if (!w.some((x) => x.node === node)) w.push({ node, traceId });
    winners.set(term, w);
  };
  for (const s of electionSpans) {
    const term = num(s, ATTR.term);
    if (outcome(s) === 'won' && term !== undefined) add(term, nodeOf(s), s.traceId);
  }
  for (const l of leadersNow) add(l.term, l.id, '');
  const twice = [...winners.entries()].find(([, w]) => w.length > 1);
  if (twice) {
    const [term, w] = twice;
    return {
      ok: false,
      what: `two leaders were elected in term ${term}: ${w.map((x) => x.node).join(' and ')} (Election Safety is broken)`,
      traceId: w.find((x) => x.traceId)?.traceId,
      next: 'this is a bug in the Raft implementation, not in your steps: keep the traces (export them from the viewer) and report it',
    };
  }
  const terms = [...winners.keys()].sort((a, b) => a - b);
  return {
    ok: true,
    what: `at most one leader elected per term (${terms.length ? `won elections in term${terms.length > 1 ? 's' : ''} ${terms.join(', ')}` : 'no election won in this window'})`,
  };
}

export function oneTermPerIndex(applySpans: FlatSpan[]): Finding {
  const terms = new Map<number, { term: number; node: string; traceId: string }[]>();
  for (const s of applySpans) {
    const index = num(s, ATTR.logIndex);
    const term = num(s, ATTR.term);
    if (index === undefined || term === undefined) continue;
    const seen = terms.get(index) ?? [];
    seen.push({ term, node: nodeOf(s), traceId: s.traceId });
    terms.set(index, seen);
  }
  for (const [index, seen] of terms) {
    const distinct = unique(seen.map((x) => x.term));
    if (distinct.length > 1)
      return {
        ok: false,
        what: `index ${index} was applied with different terms (${seen.map((x) => `${x.node}: term ${x.term}`).join(', ')}): two nodes applied different entries (State Machine Safety is broken)`,
        traceId: seen[0].traceId,
        next: 'this is a bug in the Raft implementation, not in your steps: keep the traces (export them from the viewer) and report it',
      };
  }
  return {
    ok: true,
    what: `one term per applied index (${terms.size} ind${terms.size === 1 ? 'ex' : 'exes'} applied in this window${terms.size ? `, ${applySpans.length} apply spans` : ''})`,
  };
}

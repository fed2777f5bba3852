// The write path as spans: a proposal (raft.propose, whose context goes into the log entry), the
// fsyncs it causes (raft.persist), the commit and every node's apply (raft.apply, parented on the
// context stored in the entry, so one write is one trace across all nodes, and across restarts).
// Also which proposal an AppendEntries batch belongs to: the oldest *sampled* entry's, with links
// to the others both ways.
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import type { Entry, Ready } from '../raft/types.js';
import { ATTR, SPAN } from './names.js';
import { addEvent, endSpan, startSpan, unsampledParent, type SpanEnv } from './span-env.js';
import { contextOf, spanContextOf, traceFlagsOf, traceparentOf, traceparentOfSpan } from './trace-context.js';

/** Links a span may carry to the proposals batched with it: enough to follow, bounded. */
const MAX_LINKS = 32;

interface Proposal {
  /** Null when its trace is not kept: nothing is made for it (span-env.ts, unsampledParent). */
  span: Span | null;
  ctx: Context;
  traceparent: string;
  at: number;
}

/** Which trace a batch of entries belongs to. */
export interface BatchParent {
  ctx: Context;
  /** The entry whose proposal is the parent. */
  index: number;
  /** The other proposals the batch carries. */
  links: Link[];
  linkedIndexes: number[];
}

export class WriteSpans {
  private proposals = new Map<number, Proposal>();
  private causes: Context[] = [];
  private replayUpTo = 0;

  constructor(private readonly env: SpanEnv) {}

  /** Entries at or below `index` were committed before this process started: applying them
   *  again replays what an earlier run did. */
  setReplayUpTo(index: number): void {
    this.replayUpTo = index;
  }

  /** A command proposed at `index` under `parent` (the request's span); returns the traceparent
   *  to store in the entry. */
  proposed(index: number, term: number, attributes: Attributes, parent: Context): string {
    this.env.metrics?.proposals.add(1);
    const unsampled = unsampledParent(parent);
    if (unsampled) {
      // The entry passes the request's decision on, and nothing else is made: under load most
      // writes come this way, on the leader, one per write.
      const traceparent = traceparentOfSpan(unsampled);
      this.proposals.set(index, { span: null, ctx: parent, traceparent, at: performance.now() });
      this.causes.push(parent);
      return traceparent;
    }
    const span = startSpan(this.env, SPAN.propose, parent, {
      [ATTR.traceKind]: 'write',
      [ATTR.logIndex]: index,
      [ATTR.term]: term,
      ...attributes,
    });
    const ctx = trace.setSpan(parent, span);
    const traceparent = traceparentOf(ctx);
    this.proposals.set(index, { span, ctx, traceparent, at: performance.now() });
    this.causes.push(ctx);
    return traceparent;
  }

  proposalEnded(index: number, outcome: string): void {
    const p = this.proposals.get(index);
    if (!p) return;
    this.proposals.delete(index);
    if (!p.span) return;
    p.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    endSpan(this.env, p.span);
  }

  /** `ctx` (a request being served) caused what the next persist writes. */
  noteCause(ctx: Context = context.active()): void {
    this.causes.push(ctx);
  }

  /** The parent of a message carrying `entries`: the oldest entry whose proposal was sampled
   *  (else the oldest with a context, so an unsampled batch stays unsampled), linked to the rest. */
  batchParent(entries: Entry[]): BatchParent | null {
    let sampled: Entry | null = null;
    let unsampled: Entry | null = null;
    for (const e of entries) {
      const flags = traceFlagsOf(e.context);
      if (flags === null) continue;
      if (flags & 1) {
        sampled = e;
        break;
      }
      unsampled ??= e;
    }
    const parent = sampled ?? unsampled;
    const ctx = parent ? contextOf(parent.context) : null;
    if (!parent || !ctx) return null;
    const links: Link[] = [];
    const linkedIndexes: number[] = [];
    if (sampled) {
      const seen = new Set([sampled.context]);
      for (const e of entries) {
        if (links.length >= MAX_LINKS) break;
        if (seen.has(e.context) || !((traceFlagsOf(e.context) ?? 0) & 1)) continue;
        const sc = spanContextOf(e.context);
        if (!sc) continue;
        seen.add(e.context);
        links.push({ context: sc });
        linkedIndexes.push(e.index);
      }
    }
    return { ctx, index: parent.index, links, linkedIndexes };
  }

  /** A span (an AppendEntries call) carries the proposals at `indexes` besides its parent's:
   *  each of those proposals links to it, so the batch is found from either side. */
  linkBack(indexes: number[], span: Span): void {
    for (const i of indexes) this.proposals.get(i)?.span?.addLink({ context: span.spanContext() });
  }

  async persist(rd: Ready, write: () => Promise<void>, fsyncMs: () => number, fallback: Context | null): Promise<void> {
    const span = this.beginPersist(rd, fallback);
    try {
      await write();
      this.endPersist(span, fsyncMs());
    } catch (e) {
      this.endPersist(span, null, e as Error);
      throw e;
    }
  }

  /** A Ready's write starts: its span (null when nothing is synced or nothing traced caused it). */
  beginPersist(rd: Ready, fallback: Context | null): Span | null {
    const causes = this.causes;
    this.causes = [];
    if (!rd.mustSync && !rd.snapshot) return null;
    // The parent is what caused the write: the first proposal or request with a span, else the
    // election (a vote being made durable).
    const parent = causes.find((c) => trace.getSpan(c)) ?? fallback;
    if (!parent) return null;
    const unsampled = unsampledParent(parent);
    if (unsampled) return trace.wrapSpanContext(unsampled);
    const links = causes
      .filter((c) => c !== parent)
      .slice(0, MAX_LINKS)
      .map((c) => trace.getSpanContext(c))
      .filter((s) => s !== undefined)
      .map((s) => ({ context: s }));
    return startSpan(
      this.env,
      SPAN.persist,
      parent,
      {
        [ATTR.entriesCount]: rd.entries.length,
        ...(rd.entries.length ? { [ATTR.logIndex]: rd.entries[rd.entries.length - 1].index } : {}),
        ...(rd.hardState ? { [ATTR.term]: rd.hardState.term, [ATTR.votedFor]: rd.hardState.votedFor ?? '' } : {}),
        ...(rd.snapshot ? { [ATTR.snapshotIndex]: rd.snapshot.index } : {}),
      },
      SpanKind.INTERNAL,
      links,
    );
  }

  endPersist(span: Span | null, fsyncMs: number | null, error?: Error): void {
    if (!span) return;
    if (error) {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    } else if (fsyncMs !== null) {
      span.setAttribute(ATTR.fsyncMs, fsyncMs);
      this.env.metrics?.fsyncDuration.record(fsyncMs);
    }
    endSpan(this.env, span);
  }

  /** The commit index passed the entries from..to: a raft.commit span for each local proposal. */
  committed(from: number, to: number): void {
    for (let i = from + 1; i <= to; i++) {
      const p = this.proposals.get(i);
      if (p?.span)
        endSpan(this.env, startSpan(this.env, SPAN.commit, p.ctx, { [ATTR.logIndex]: i, [ATTR.commitIndex]: to }));
    }
  }

  apply<T>(e: Entry, run: () => T, describe: (result: T) => Attributes): T {
    // Only a kept write's apply is a span (an unsampled one would be dropped: not even parsed).
    const parent = (traceFlagsOf(e.context) ?? 0) & 1 ? contextOf(e.context) : null;
    let result: T;
    if (parent) {
      const span = startSpan(this.env, SPAN.apply, parent, {
        [ATTR.logIndex]: e.index,
        [ATTR.term]: e.term,
        [ATTR.applyReplay]: e.index <= this.replayUpTo,
      });
      result = run();
      const attrs = describe(result);
      span.setAttributes(attrs);
      if (attrs[ATTR.resultCode]) addEvent(this.env, span, String(attrs[ATTR.resultCode]), attrs);
      endSpan(this.env, span);
    } else result = run();
    const proposal = this.proposals.get(e.index);
    if (proposal && proposal.traceparent === e.context) {
      this.proposals.delete(e.index);
      this.env.metrics?.commitLatency.record(performance.now() - proposal.at);
      if (proposal.span) endSpan(this.env, proposal.span);
    }
    return result;
  }

  /** Ends every proposal still open (a node stopping, a simulation being exported). */
  close(outcome: string): void {
    for (const index of [...this.proposals.keys()]) this.proposalEnded(index, outcome);
  }
}

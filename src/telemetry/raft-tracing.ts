// Raft's story as traces (docs/trace-model.md). The node calls into this at a few points (propose,
// persist, apply, each observation of the core) and the transport through its RpcHooks; this file
// decides what each span is, who its parent is, and what it says.
//
//   raft.election                  INTERNAL  candidate, pre-candidate to won/lost/superseded (root)
//     raft.Raft/RequestVote        CLIENT    one per voter          -> SERVER on the voter
//   PUT /kv/{key}                  SERVER    HTTP, on the node the client reached (forwarded: again on the leader)
//     raft.propose                 INTERNAL  leader, until applied there; its context goes into the log entry
//       raft.persist               INTERNAL  the leader's fsync of the entry
//       raft.Raft/AppendEntries    CLIENT    child of the oldest entry's proposal, links to the others
//         raft.Raft/AppendEntries  SERVER    follower (context from gRPC metadata)
//           raft.persist           INTERNAL  the follower's fsync
//       raft.commit                INTERNAL  leader, when the commit index passes the entry
//       raft.apply                 INTERNAL  every node, from the context stored in the entry
// Heartbeats are AppendEntries without entries: roots of their own, sampled as "heartbeat".
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { Metadata as GrpcMetadata, type Metadata } from '@grpc/grpc-js';
import type { Entry, Message, Observation, Ready } from '../raft/types.js';
import type { ChaosEvent } from '../transport/chaos.js';
import { decodeReply, type RequestMessage, type RpcMethod } from '../transport/codec.js';
import { PLAIN_HOOKS, type ClientCallInfo, type RpcHooks, type ServerCallInfo } from '../transport/hooks.js';
import type { TraceKind } from './config.js';
import { NodeMetrics, type NodeGauges } from './metrics.js';
import { ATTR, SPAN } from './names.js';

const tracer = () => trace.getTracer('raft-otel');

const metadataSetter = { set: (md: Metadata, k: string, v: string) => md.set(k, v) };
const metadataGetter = {
  get: (md: Metadata, k: string) => {
    const v = md.get(k);
    return v.length ? String(v[0]) : undefined;
  },
  keys: (md: Metadata) => Object.keys(md.getMap()),
};

/** The context a W3C traceparent string (as stored in a log entry) stands for. */
function contextOf(traceparent: string): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

function traceparentOf(ctx: Context): string {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ?? '';
}

function addrParts(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

/** What the node tells its tracing; every method is cheap when tracing is off. */
export interface NodeTracing {
  readonly enabled: boolean;
  readonly hooks: RpcHooks;
  /** A command was proposed at `index` (in the context of its HTTP request); returns the
   *  traceparent to store in the entry. */
  proposed(index: number, term: number, attributes: Attributes): string;
  /** The proposal at `index` will never be applied here, or its outcome is unknown. */
  proposalEnded(index: number, outcome: string): void;
  /** A linearizable read started (its ReadIndex RPC belongs to the current request's trace). */
  readStarted(requestId: string): void;
  /** The current context (a request being served) caused what the next persist writes. */
  noteCause(): void;
  persist(rd: Ready, write: () => Promise<void>, fsyncMs: () => number): Promise<void>;
  apply<T>(e: Entry, run: () => T, describe: (result: T) => Attributes): T;
  observe(o: Observation): void;
  /** trace_id and span_id of the active span, for log lines. */
  logFields(): Record<string, string>;
}

export const NO_TRACING: NodeTracing = {
  enabled: false,
  hooks: PLAIN_HOOKS,
  proposed: () => '',
  proposalEnded: () => {},
  readStarted: () => {},
  noteCause: () => {},
  persist: (_rd, write) => write(),
  apply: (_e, run) => run(),
  observe: () => {},
  logFields: () => ({}),
};

export class RaftTracing implements NodeTracing {
  readonly enabled = true;
  readonly hooks: RpcHooks;
  readonly metrics: NodeMetrics;
  private election: { span: Span; ctx: Context; term: number } | null = null;
  private transfer: { span: Span; ctx: Context } | null = null;
  private proposals = new Map<number, { span: Span; ctx: Context; at: number }>();
  private reads = new Map<string, Context>();
  private causes: Context[] = [];

  constructor(
    private readonly nodeId: string,
    gauges: NodeGauges,
  ) {
    this.metrics = new NodeMetrics(gauges, { [ATTR.nodeId]: nodeId });
    this.hooks = {
      clientCall: (info, send) => this.clientCall(info, send),
      serverCall: (info, md, handle) => this.serverCall(info, md, handle),
      chaos: (info, event) => this.chaos(info, event),
    };
  }

  private root(
    name: string,
    kindOfTrace: TraceKind,
    attributes: Attributes = {},
    spanKind = SpanKind.INTERNAL,
    links: Link[] = [],
  ): Span {
    return tracer().startSpan(
      name,
      {
        kind: spanKind,
        root: true,
        links,
        attributes: { [ATTR.traceKind]: kindOfTrace, [ATTR.nodeId]: this.nodeId, ...attributes },
      },
      ROOT_CONTEXT,
    );
  }

  // ------------------------------------------------------------------------------------------
  // Writes: propose, persist, commit, apply
  // ------------------------------------------------------------------------------------------

  proposed(index: number, term: number, attributes: Attributes): string {
    const parent = context.active();
    const span = tracer().startSpan(
      SPAN.propose,
      {
        attributes: {
          [ATTR.traceKind]: 'write',
          [ATTR.nodeId]: this.nodeId,
          [ATTR.logIndex]: index,
          [ATTR.term]: term,
          ...attributes,
        },
      },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    this.proposals.set(index, { span, ctx, at: performance.now() });
    this.causes.push(ctx);
    this.metrics.proposals.add(1);
    return traceparentOf(ctx);
  }

  proposalEnded(index: number, outcome: string): void {
    const p = this.proposals.get(index);
    if (!p) return;
    this.proposals.delete(index);
    p.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    p.span.end();
  }

  readStarted(requestId: string): void {
    this.reads.set(requestId, context.active());
    if (this.reads.size > 10_000) this.reads.delete(this.reads.keys().next().value!);
  }

  noteCause(): void {
    this.causes.push(context.active());
  }

  async persist(rd: Ready, write: () => Promise<void>, fsyncMs: () => number): Promise<void> {
    const causes = this.causes;
    this.causes = [];
    if (!rd.mustSync && !rd.snapshot) return write();
    // The parent is what caused the write: the first proposal or request, else the election.
    const parent = causes.find((c) => trace.getSpan(c)) ?? this.election?.ctx;
    if (!parent) return write();
    const links = causes
      .slice(1, 33)
      .map((c) => trace.getSpanContext(c))
      .filter((s) => s !== undefined)
      .map((s) => ({ context: s }));
    const span = tracer().startSpan(
      SPAN.persist,
      {
        links,
        attributes: {
          [ATTR.nodeId]: this.nodeId,
          [ATTR.entriesCount]: rd.entries.length,
          ...(rd.entries.length ? { [ATTR.logIndex]: rd.entries[rd.entries.length - 1].index } : {}),
          ...(rd.hardState ? { [ATTR.term]: rd.hardState.term, 'raft.voted_for': rd.hardState.votedFor ?? '' } : {}),
          ...(rd.snapshot ? { [ATTR.snapshotIndex]: rd.snapshot.index } : {}),
        },
      },
      parent,
    );
    try {
      await write();
      const ms = fsyncMs();
      span.setAttribute(ATTR.fsyncMs, ms);
      this.metrics.fsyncDuration.record(ms, { [ATTR.nodeId]: this.nodeId });
    } catch (e) {
      span.recordException(e as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      throw e;
    } finally {
      span.end();
    }
  }

  apply<T>(e: Entry, run: () => T, describe: (result: T) => Attributes): T {
    const proposal = this.proposals.get(e.index);
    if (!e.context) return run();
    const span = tracer().startSpan(
      SPAN.apply,
      { attributes: { [ATTR.nodeId]: this.nodeId, [ATTR.logIndex]: e.index, [ATTR.term]: e.term } },
      contextOf(e.context),
    );
    const result = run();
    const attrs = describe(result);
    span.setAttributes(attrs);
    if (attrs[ATTR.resultCode]) span.addEvent(String(attrs[ATTR.resultCode]), attrs);
    span.end();
    if (proposal && traceparentOf(proposal.ctx) === e.context) {
      this.proposals.delete(e.index);
      this.metrics.commitLatency.record(performance.now() - proposal.at, { [ATTR.nodeId]: this.nodeId });
      proposal.span.end();
    }
    return result;
  }

  // ------------------------------------------------------------------------------------------
  // Observations of the core: elections, commits, transfers, membership, snapshots
  // ------------------------------------------------------------------------------------------

  observe(o: Observation): void {
    switch (o.type) {
      case 'became_pre_candidate':
      case 'became_candidate': {
        const term = o.type === 'became_pre_candidate' ? o.term + 1 : o.term;
        if (!this.election || this.election.term !== term) {
          this.endElection('superseded');
          const span = this.root(SPAN.election, 'election', {
            [ATTR.candidateId]: this.nodeId,
            [ATTR.term]: term,
            [ATTR.votesNeeded]: o.votersNeeded,
          });
          this.election = { span, ctx: trace.setSpan(ROOT_CONTEXT, span), term };
        }
        this.election.span.addEvent(
          o.type === 'became_pre_candidate'
            ? 'pre-candidate: asking for pre-votes'
            : `candidate in term ${o.term}${o.type === 'became_candidate' && o.transfer ? ' (leadership transfer)' : ''}`,
        );
        if (o.type === 'became_candidate') this.metrics.electionsStarted.add(1);
        break;
      }
      case 'vote_received':
        this.election?.span.addEvent(
          o.granted
            ? `${o.preVote ? 'pre-vote' : 'vote'} granted by ${o.from}`
            : `${o.preVote ? 'pre-vote' : 'vote'} rejected by ${o.from}`,
          {
            [ATTR.voteGranted]: o.granted,
            ...(o.reason ? { [ATTR.voteRejectReason]: o.reason } : {}),
            'raft.voter.id': o.from,
          },
        );
        break;
      case 'election_ended':
        if (!this.election) break;
        this.election.span.setAttributes({
          [ATTR.votesGranted]: o.granted,
          'raft.election.votes_rejected': o.rejected,
          [ATTR.votesNeeded]: o.needed,
        });
        if (o.preVote && o.outcome === 'won') this.election.span.addEvent('pre-vote won: starting the real election');
        else if (o.outcome !== 'won') this.endElection(o.outcome);
        break;
      case 'became_leader':
        this.metrics.electionsWon.add(1);
        this.election?.span.setAttribute(ATTR.leaderId, this.nodeId);
        this.endElection('won');
        break;
      case 'became_follower':
        if (this.election) this.endElection(o.reason.includes('lost') ? 'lost' : 'superseded');
        if (this.transfer) this.endTransfer(o.reason);
        if (o.leader) this.metrics.leaderChanges.add(1);
        break;
      case 'commit_advanced':
        for (let i = o.from + 1; i <= o.to; i++) {
          const p = this.proposals.get(i);
          if (p)
            tracer()
              .startSpan(
                SPAN.commit,
                { attributes: { [ATTR.logIndex]: i, [ATTR.commitIndex]: o.to, [ATTR.nodeId]: this.nodeId } },
                p.ctx,
              )
              .end();
        }
        break;
      case 'transfer_started': {
        const span = this.root(SPAN.transfer, 'admin', { 'raft.transfer.target': o.target, [ATTR.term]: o.term });
        this.transfer = { span, ctx: trace.setSpan(ROOT_CONTEXT, span) };
        break;
      }
      case 'transfer_timeout_now_sent':
        this.transfer?.span.addEvent(`${o.target} is caught up: TimeoutNow sent`);
        break;
      case 'transfer_aborted':
        if (this.transfer) {
          this.transfer.span.setStatus({ code: SpanStatusCode.ERROR, message: o.reason });
          this.endTransfer(`aborted: ${o.reason}`);
        }
        break;
      case 'membership_changed':
        this.root(SPAN.membership, 'admin', {
          'raft.membership.change': o.change.type,
          'raft.membership.node': o.change.node,
          [ATTR.logIndex]: o.index,
          'raft.voters': o.conf.voters,
          'raft.learners': o.conf.learners,
        }).end();
        break;
      case 'snapshot_created':
        this.root(SPAN.snapshot, 'snapshot', { [ATTR.snapshotIndex]: o.index, [ATTR.term]: o.snapshotTerm }).end();
        break;
      case 'check_quorum_failed':
        this.root('raft.check_quorum', 'election', {
          'raft.check_quorum.active': o.active,
          'raft.check_quorum.needed': o.needed,
          [ATTR.term]: o.term,
        })
          .addEvent('leader steps down: it has not heard from a majority within an election timeout')
          .end();
        break;
      default:
        break;
    }
  }

  private endElection(outcome: string): void {
    if (!this.election) return;
    this.election.span.setAttribute(ATTR.electionOutcome, outcome);
    this.election.span.end();
    this.election = null;
  }

  private endTransfer(how: string): void {
    this.transfer?.span.addEvent(how);
    this.transfer?.span.end();
    this.transfer = null;
  }

  // ------------------------------------------------------------------------------------------
  // RPCs (the transport's hooks)
  // ------------------------------------------------------------------------------------------

  /** Who an outgoing message belongs to. */
  private parentOf(m: RequestMessage): { ctx: Context | null; kind: TraceKind; links: Link[] } {
    switch (m.type) {
      case 'RequestVote':
        return { ctx: this.election?.ctx ?? null, kind: 'election', links: [] };
      case 'AppendEntries': {
        const withContext = m.entries.filter((e) => e.context);
        if (!withContext.length) return { ctx: null, kind: 'heartbeat', links: [] };
        const seen = new Set([withContext[0].context]);
        const links: Link[] = [];
        for (const e of withContext.slice(1)) {
          if (seen.has(e.context) || links.length >= 32) continue;
          seen.add(e.context);
          const sc = trace.getSpanContext(contextOf(e.context));
          if (sc) links.push({ context: sc });
        }
        return { ctx: contextOf(withContext[0].context), kind: 'write', links };
      }
      case 'TimeoutNow':
        return { ctx: this.transfer?.ctx ?? null, kind: 'admin', links: [] };
      case 'ReadIndex':
        return { ctx: this.reads.get(m.requestId) ?? null, kind: 'read', links: [] };
      case 'InstallSnapshot':
        return { ctx: null, kind: 'snapshot', links: [] };
    }
  }

  private requestAttributes(m: RequestMessage): Attributes {
    const a: Attributes = { [ATTR.term]: m.term };
    switch (m.type) {
      case 'RequestVote':
        Object.assign(a, {
          [ATTR.candidateId]: m.from,
          [ATTR.preVote]: m.preVote,
          'raft.last_log.index': m.lastLogIndex,
          'raft.last_log.term': m.lastLogTerm,
        });
        break;
      case 'AppendEntries':
        Object.assign(a, {
          [ATTR.leaderId]: m.from,
          [ATTR.prevLogIndex]: m.prevLogIndex,
          [ATTR.prevLogTerm]: m.prevLogTerm,
          [ATTR.entriesCount]: m.entries.length,
          [ATTR.leaderCommit]: m.leaderCommit,
          [ATTR.heartbeat]: m.heartbeat,
        });
        if (m.entries.length) a[ATTR.logIndex] = m.entries[m.entries.length - 1].index;
        break;
      case 'InstallSnapshot':
        Object.assign(a, { [ATTR.leaderId]: m.from, [ATTR.snapshotIndex]: m.snapshot.index });
        break;
      default:
        break;
    }
    return a;
  }

  private replyAttributes(reply: Message | null | undefined): Attributes {
    if (!reply) return {};
    switch (reply.type) {
      case 'RequestVoteResponse':
        return {
          [ATTR.voteGranted]: reply.granted,
          ...(reply.reason ? { [ATTR.voteRejectReason]: reply.reason } : {}),
        };
      case 'AppendEntriesResponse':
        return reply.success
          ? { [ATTR.appendSuccess]: true, [ATTR.matchIndex]: reply.matchIndex }
          : {
              [ATTR.appendSuccess]: false,
              [ATTR.conflictIndex]: reply.conflictIndex,
              [ATTR.conflictTerm]: reply.conflictTerm,
              'raft.append.rejected_index': reply.rejectedIndex,
            };
      case 'InstallSnapshotResponse':
        return { [ATTR.matchIndex]: reply.matchIndex };
      case 'ReadIndexResponse':
        return { 'raft.read.index': reply.index };
      default:
        return {};
    }
  }

  private describeReply(span: Span, attrs: Attributes): void {
    span.setAttributes(attrs);
    if (attrs[ATTR.appendSuccess] === false) {
      span.addEvent(
        `rejected: the follower's log conflicts (term ${String(attrs[ATTR.conflictTerm])} from index ${String(attrs[ATTR.conflictIndex])}); the leader backs up`,
        attrs,
      );
    }
    if (attrs[ATTR.voteGranted] === false)
      span.addEvent(`vote refused: ${String(attrs[ATTR.voteRejectReason])}`, attrs);
  }

  private async clientCall<T>(info: ClientCallInfo, send: (md: Metadata) => Promise<T>): Promise<T> {
    const { ctx, kind, links } = this.parentOf(info.message);
    const { host, port } = addrParts(info.address);
    const attributes: Attributes = {
      [ATTR.rpcSystem]: 'grpc',
      [ATTR.rpcMethod]: `raft.Raft/${info.method}`,
      [ATTR.serverAddress]: host,
      [ATTR.serverPort]: port,
      [ATTR.nodeId]: this.nodeId,
      'raft.peer.id': info.peer,
      ...this.requestAttributes(info.message),
    };
    const span = ctx
      ? tracer().startSpan(SPAN.rpc(info.method), { kind: SpanKind.CLIENT, links, attributes }, ctx)
      : this.root(SPAN.rpc(info.method), kind, attributes, SpanKind.CLIENT, links);
    const spanCtx = trace.setSpan(ctx ?? ROOT_CONTEXT, span);
    const t0 = performance.now();
    const md = new GrpcMetadata();
    // Trace context rides in the gRPC metadata as W3C traceparent (the public propagation API).
    propagation.inject(spanCtx, md, metadataSetter);
    try {
      const reply = await context.with(spanCtx, () => send(md));
      span.setAttribute(ATTR.rpcStatus, 'OK');
      this.describeReply(span, this.replyAttributes(decodeForAttrs(info.method, reply)));
      this.metrics.rpcDuration.record(performance.now() - t0, {
        'rpc.method': info.method,
        'raft.peer.id': info.peer,
        [ATTR.rpcStatus]: 'OK',
      });
      return reply;
    } catch (e) {
      const err = e as { code?: number; details?: string; message?: string };
      const status = GRPC_STATUS[err.code ?? 2] ?? 'UNKNOWN';
      span.setAttributes({ [ATTR.rpcStatus]: status, [ATTR.errorType]: status });
      span.setStatus({ code: SpanStatusCode.ERROR, message: err.details ?? err.message });
      this.metrics.rpcDuration.record(performance.now() - t0, {
        'rpc.method': info.method,
        'raft.peer.id': info.peer,
        [ATTR.rpcStatus]: status,
      });
      throw e;
    } finally {
      span.end();
    }
  }

  private async serverCall<T>(info: ServerCallInfo, md: Metadata, handle: () => Promise<T>): Promise<T> {
    const parent = propagation.extract(ROOT_CONTEXT, md, metadataGetter);
    const kind: TraceKind =
      info.method === 'RequestVote'
        ? 'election'
        : info.method === 'AppendEntries'
          ? 'heartbeat'
          : info.method === 'ReadIndex'
            ? 'read'
            : 'snapshot';
    const attributes: Attributes = {
      [ATTR.rpcSystem]: 'grpc',
      [ATTR.rpcMethod]: `raft.Raft/${info.method}`,
      [ATTR.nodeId]: this.nodeId,
      'raft.peer.id': info.peer,
      [ATTR.traceKind]: kind,
      ...this.requestAttributes(info.message),
    };
    const span = tracer().startSpan(SPAN.rpc(info.method), { kind: SpanKind.SERVER, attributes }, parent);
    try {
      const reply = await context.with(trace.setSpan(parent, span), handle);
      span.setAttribute(ATTR.rpcStatus, 'OK');
      this.describeReply(span, this.replyAttributes(reply as Message | null));
      return reply;
    } catch (e) {
      const err = e as { code?: number; message?: string };
      const status = GRPC_STATUS[err.code ?? 2] ?? 'UNKNOWN';
      span.setAttributes({ [ATTR.rpcStatus]: status, [ATTR.errorType]: status });
      span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      throw e;
    } finally {
      span.end();
    }
  }

  private chaos(info: { method: RpcMethod; peer: string; direction: 'out' | 'in' }, event: ChaosEvent): void {
    const span = trace.getActiveSpan();
    const attrs: Attributes = {
      'raft.chaos.kind': event.kind,
      'raft.peer.id': info.peer,
      ...(event.kind === 'delayed' ? { 'raft.chaos.delay_ms': event.ms } : {}),
    };
    if (event.kind === 'dropped_request') attrs['raft.chaos.reason'] = event.reason;
    span?.addEvent(
      `chaos: ${event.kind === 'delayed' ? `delayed ${event.ms} ms` : event.kind === 'dropped_reply' ? 'reply dropped after the handler ran' : `request dropped (${event.reason})`}`,
      attrs,
    );
    this.metrics.chaos.add(1, { 'raft.chaos.kind': event.kind, 'rpc.method': info.method });
  }

  /** The active span's ids, or during an election the election's, so a log line leads to its trace. */
  logFields(): Record<string, string> {
    const sc = trace.getActiveSpan()?.spanContext() ?? this.election?.span.spanContext();
    return sc && trace.isSpanContextValid(sc) && sc.traceFlags & 1 ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
  }
}

const GRPC_STATUS: Record<number, string> = {
  0: 'OK',
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

/** The reply of a client call, as the core message it will become (for span attributes). */
function decodeForAttrs(method: RpcMethod, reply: unknown): Message | null {
  try {
    return decodeReply(method, reply);
  } catch {
    return null;
  }
}

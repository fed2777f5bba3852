// Raft's story as traces (docs/trace-model.md), for one node. A consumer: it is fed the core's
// observations, the Ready driver's work (persist, apply) and the transport's calls, and it makes
// spans from them, never reaching into the node. Three jobs, three files:
//   cluster-spans.ts  the cluster's life: elections (until the new leader is established),
//                     transfers, membership, snapshots, CheckQuorum
//   write-spans.ts    the write path: propose, persist, commit, apply
//   rpc-spans.ts      RPC CLIENT and SERVER spans
// This file puts them together, decides which trace each outgoing call belongs to, and adapts
// the RPC spans to the gRPC transport's hooks (trace context in the metadata).
//
//   raft.election                  INTERNAL  candidate, pre-candidate to won (its no-op committed), lost, superseded
//     raft.Raft/RequestVote        CLIENT    one per voter          -> SERVER on the voter
//     raft.Raft/AppendEntries      CLIENT    the new leader's no-op -> SERVER on each follower
//   PUT /kv/{key}                  SERVER    HTTP, on the node the client reached
//     raft.propose                 INTERNAL  leader, until applied there; its context goes into the log entry
//       raft.persist               INTERNAL  the leader's fsync of the entry
//       raft.Raft/AppendEntries    CLIENT    child of the oldest sampled entry's proposal, links to the others
//         raft.Raft/AppendEntries  SERVER    follower (context from gRPC metadata; links to the others too)
//           raft.persist           INTERNAL  the follower's fsync
//       raft.commit                INTERNAL  leader, when the commit index passes the entry
//       raft.apply                 INTERNAL  every node, from the context stored in the entry
// Heartbeats are AppendEntries without traced entries: roots of their own, sampled as "heartbeat".
import { context, ROOT_CONTEXT, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { Metadata as GrpcMetadata, type Metadata } from '@grpc/grpc-js';
import type { Entry, Observation, Ready } from '../raft/types.js';
import type { ChaosEvent } from '../transport/chaos.js';
import type { RequestMessage, ResponseMessage, RpcMethod } from '../transport/codec.js';
import { PLAIN_HOOKS, type ClientCallInfo, type RpcHooks, type ServerCallInfo } from '../transport/hooks.js';
import { ClusterSpans } from './cluster-spans.js';
import { NodeMetrics, type NodeGauges } from './metrics.js';
import { tracer } from './semconv.js';
import { ATTR } from './names.js';
import { RpcSpans, type CallError, type CallParent } from './rpc-spans.js';
import type { SpanEnv } from './span-env.js';
import type { Carrier } from './trace-context.js';
import { WriteSpans } from './write-spans.js';

/** Read contexts kept for ReadIndex calls not yet answered; a bound for reads that never are. */
const MAX_OPEN_READS = 10_000;

/** What the node tells its tracing; every method is cheap when tracing is off. */
export interface NodeTracing {
  readonly enabled: boolean;
  readonly hooks: RpcHooks;
  /** A command was proposed at `index` in `parent`, the context of the request that asked (default:
   *  the active one); returns the traceparent to store in the entry. */
  proposed(index: number, term: number, attributes: Attributes, parent?: Context): string;
  /** The proposal at `index` will never be applied here, or its outcome is unknown. */
  proposalEnded(index: number, outcome: string): void;
  /** A linearizable read started (its ReadIndex RPC belongs to `parent`, the request's trace;
   *  default: the active context). */
  readStarted(requestId: string, parent?: Context): void;
  /** The current context (a request being served) caused what the next persist writes. */
  noteCause(): void;
  /** Entries up to `index` were committed before this process started (their applies replay). */
  replayUpTo(index: number): void;
  persist(rd: Ready, write: () => Promise<void>, fsyncMs: () => number): Promise<void>;
  apply<T>(e: Entry, run: () => T, describe: (result: T) => Attributes): T;
  observe(o: Observation): void;
  /** trace_id and span_id of the active span, for log lines. */
  logFields(): Record<string, string>;
  /** Runs `fn` (a log line about what the core did) in the running election's context, if one
   *  runs: the core reports outside any request, and the active span then is whichever request
   *  happened to drive it, so an election's log lines would otherwise name a write's trace. */
  duringElection<T>(fn: () => T): T;
}

export const NO_TRACING: NodeTracing = {
  enabled: false,
  hooks: PLAIN_HOOKS,
  proposed: () => '',
  proposalEnded: () => {},
  readStarted: () => {},
  noteCause: () => {},
  replayUpTo: () => {},
  persist: (_rd, write) => write(),
  apply: (_e, run) => run(),
  observe: () => {},
  logFields: () => ({}),
  duringElection: (fn) => fn(),
};

/** The spans of one node, fed with what happens; `env` says how spans are made and stamped. */
export class NodeSpans {
  readonly cluster: ClusterSpans;
  readonly writes: WriteSpans;
  readonly rpc: RpcSpans;
  private reads = new Map<string, Context>();

  constructor(readonly env: SpanEnv) {
    this.cluster = new ClusterSpans(env);
    this.writes = new WriteSpans(env);
    this.rpc = new RpcSpans(env, (m) => this.parentOf(m));
  }

  get openReads(): number {
    return this.reads.size;
  }

  readStarted(requestId: string, ctx: Context): void {
    this.reads.set(requestId, ctx);
    if (this.reads.size > MAX_OPEN_READS) this.reads.delete(this.reads.keys().next().value!);
  }

  observe(o: Observation): void {
    this.cluster.observe(o);
    if (o.type === 'commit_advanced') this.writes.committed(o.from, o.to);
    if (o.type === 'read_index_ready' || o.type === 'read_index_failed') this.reads.delete(o.requestId);
  }

  /** The persist's parent when no request caused it: the election (a vote made durable). */
  persistFallback(): Context | null {
    return this.cluster.electionContext();
  }

  /** The other proposals a request carries, as links for its SERVER span. */
  serverLinks(m: RequestMessage) {
    return m.type === 'AppendEntries' ? (this.writes.batchParent(m.entries)?.links ?? []) : [];
  }

  /** Who an outgoing message belongs to. */
  private parentOf(m: RequestMessage): CallParent {
    switch (m.type) {
      case 'RequestVote':
        return { ctx: this.cluster.electionContext(), kind: 'election', links: [] };
      case 'AppendEntries': {
        const batch = this.writes.batchParent(m.entries);
        if (batch)
          return {
            ctx: batch.ctx,
            kind: 'write',
            links: batch.links,
            onStart: (span: Span) => this.writes.linkBack(batch.linkedIndexes, span),
          };
        const establishing = this.cluster.establishingContext((i) => m.entries.some((e) => e.index === i));
        return establishing
          ? { ctx: establishing, kind: 'election', links: [] }
          : { ctx: null, kind: 'heartbeat', links: [] };
      }
      case 'TimeoutNow':
        return { ctx: this.cluster.transferContext(), kind: 'admin', links: [] };
      case 'ReadIndex':
        return { ctx: this.reads.get(m.requestId) ?? null, kind: 'read', links: [] };
      case 'InstallSnapshot':
        return { ctx: null, kind: 'snapshot', links: [] };
    }
  }

  /** Ends what is still open. */
  close(): void {
    this.cluster.close();
    this.writes.close('tracing closed before the entry was applied here');
  }
}

const metadataCarrier = (md: Metadata): Carrier => {
  const carrier: Carrier = {};
  for (const [k, v] of Object.entries(md.getMap())) carrier[k] = String(v);
  return carrier;
};

/** A node's tracing in a process: the global tracer, the wall clock, metrics, gRPC hooks. */
export class RaftTracing implements NodeTracing {
  readonly enabled = true;
  readonly hooks: RpcHooks;
  readonly metrics: NodeMetrics;
  private readonly spans: NodeSpans;
  /** The span of each call in progress, by its request: a fault reported after an await (a reply
   *  dropped once the handler ran) finds its call here, where no context would carry it. */
  private readonly callSpans = new WeakMap<RequestMessage, Span>();

  constructor(nodeId: string, gauges: NodeGauges) {
    this.metrics = new NodeMetrics(gauges, { [ATTR.nodeId]: nodeId });
    this.spans = new NodeSpans({
      tracer: tracer(),
      nodeId,
      now: () => undefined,
      metrics: this.metrics,
    });
    this.hooks = {
      clientCall: (info, send) => this.clientCall(info, send),
      serverCall: (info, md, handle) => this.serverCall(info, md, handle),
      chaos: (info, event) => this.chaos(info, event),
    };
  }

  /** ReadIndex contexts kept (pruned when the read is answered). */
  get openReads(): number {
    return this.spans.openReads;
  }

  proposed(index: number, term: number, attributes: Attributes, parent: Context = context.active()): string {
    return this.spans.writes.proposed(index, term, attributes, parent);
  }

  proposalEnded(index: number, outcome: string): void {
    this.spans.writes.proposalEnded(index, outcome);
  }

  readStarted(requestId: string, parent: Context = context.active()): void {
    this.spans.readStarted(requestId, parent);
  }

  noteCause(): void {
    this.spans.writes.noteCause();
  }

  replayUpTo(index: number): void {
    this.spans.writes.setReplayUpTo(index);
  }

  persist(rd: Ready, write: () => Promise<void>, fsyncMs: () => number): Promise<void> {
    return this.spans.writes.persist(rd, write, fsyncMs, this.spans.persistFallback());
  }

  apply<T>(e: Entry, run: () => T, describe: (result: T) => Attributes): T {
    return this.spans.writes.apply(e, run, describe);
  }

  observe(o: Observation): void {
    this.spans.observe(o);
  }

  private async clientCall(
    info: ClientCallInfo,
    send: (md: Metadata) => Promise<ResponseMessage | null>,
  ): Promise<ResponseMessage | null> {
    const call = this.spans.rpc.clientStart(info.message, info.peer, info.address);
    this.noteCallSpan(info.message, call.ctx);
    const md = new GrpcMetadata();
    for (const [k, v] of Object.entries(call.carrier)) md.set(k, v);
    try {
      const reply = await context.with(call.ctx, () => send(md));
      this.spans.rpc.clientEnd(call, reply);
      return reply;
    } catch (e) {
      this.spans.rpc.clientEnd(call, null, callError(e));
      throw e;
    }
  }

  private async serverCall(
    info: ServerCallInfo,
    md: Metadata,
    handle: () => Promise<ResponseMessage | null>,
  ): Promise<ResponseMessage | null> {
    const call = this.spans.rpc.serverStart(info.message, info.peer, metadataCarrier(md), () =>
      this.spans.serverLinks(info.message),
    );
    this.noteCallSpan(info.message, call.ctx);
    try {
      const reply = await context.with(call.ctx, handle);
      this.spans.rpc.serverEnd(call, reply);
      return reply;
    } catch (e) {
      this.spans.rpc.serverEnd(call, null, callError(e));
      throw e;
    }
  }

  private noteCallSpan(message: RequestMessage, ctx: Context): void {
    const span = trace.getSpan(ctx);
    if (span) this.callSpans.set(message, span);
  }

  private chaos(
    info: { method: RpcMethod; peer: string; direction: 'out' | 'in'; message: RequestMessage },
    event: ChaosEvent,
  ): void {
    this.spans.rpc.chaos(info, event, this.callSpans.get(info.message) ?? null);
  }

  duringElection<T>(fn: () => T): T {
    const span = this.spans.cluster.activeElectionSpan();
    return span ? context.with(trace.setSpan(ROOT_CONTEXT, span), fn) : fn();
  }

  /** The active span's ids, or during an election the election's, so a log line leads to its trace. */
  logFields(): Record<string, string> {
    const sc = trace.getActiveSpan()?.spanContext() ?? this.spans.cluster.activeElectionSpan()?.spanContext();
    return sc && trace.isSpanContextValid(sc) && sc.traceFlags & 1 ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
  }
}

function callError(e: unknown): CallError {
  const err = e as { code?: unknown; details?: unknown; message?: unknown };
  return {
    code: typeof err.code === 'number' ? err.code : 2,
    message: String(err.details ?? err.message ?? e),
  };
}

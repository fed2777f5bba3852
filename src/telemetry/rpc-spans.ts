// RPC spans (CLIENT on the caller, SERVER on the callee) for Raft's messages, following the RPC
// semantic conventions. Transport-agnostic: the gRPC hooks (raft-tracing.ts) and the simulator's
// network (sim-tracing.ts) both start and end calls here, with the trace context in a carrier.
// Who a call belongs to (an election, a write, a read, a transfer) is decided by `parentOf`.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import type { Message } from '../raft/types.js';
import type { ChaosEvent } from '../transport/chaos.js';
import type { RequestMessage, RpcMethod } from '../transport/codec.js';
import type { TraceKind } from './config.js';
import { ATTR, SPAN } from './names.js';
import { addEvent, endSpan, startRoot, startSpan, unsampledParent, type SpanEnv } from './span-env.js';
import { carrierOf, contextFromCarrier, type Carrier } from './trace-context.js';

/** Where an outgoing call belongs. */
export interface CallParent {
  ctx: Context | null;
  kind: TraceKind;
  links: Link[];
  /** A span to link back to the call once it exists (batched proposals). */
  onStart?: (span: Span) => void;
}

export interface OpenCall {
  span: Span;
  ctx: Context;
  /** What continues this call's trace on the other side. */
  carrier: Carrier;
  startedAt: number;
  method: RpcMethod;
  peer: string;
}

/** A failed call: a gRPC status code and what it said. */
export interface CallError {
  code: number;
  message: string;
}

const GRPC_STATUS = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

export const grpcStatusName = (code: number): string => GRPC_STATUS[code] ?? 'UNKNOWN';

/** The RPC semantic conventions (gRPC): a SERVER span is an error only for these codes, the ones
 *  that are the server's fault; a refused argument or precondition is the caller's. */
const SERVER_FAULTS = new Set([2, 4, 12, 13, 14, 15]); // UNKNOWN DEADLINE_EXCEEDED UNIMPLEMENTED INTERNAL UNAVAILABLE DATA_LOSS

/** The kind of trace a call starts when it arrives with no parent. */
const SERVER_KIND: Record<RpcMethod, TraceKind> = {
  RequestVote: 'election',
  AppendEntries: 'heartbeat',
  InstallSnapshot: 'snapshot',
  TimeoutNow: 'admin',
  ReadIndex: 'read',
};

/** A standalone span for a fault that happened before any call span existed (an inbound cut)
 *  is made at most this often per peer: a cut link refuses every heartbeat. */
const STANDALONE_CHAOS_EVERY_MS = 1000;

function addrParts(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(i + 1)) };
}

export class RpcSpans {
  private chaosSpanAt = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly env: SpanEnv,
    private readonly parentOf: (m: RequestMessage) => CallParent,
  ) {}

  clientStart(m: RequestMessage, peer: string, address: string | null): OpenCall {
    const parent = this.parentOf(m);
    const method = m.type;
    // A call in a trace that is not kept: its carrier passes that decision on, nothing else is made.
    const unsampled = parent.ctx ? unsampledParent(parent.ctx) : null;
    if (unsampled) {
      const ctx = parent.ctx!;
      const span = trace.wrapSpanContext(unsampled);
      return { span, ctx, carrier: carrierOf(ctx), startedAt: performance.now(), method, peer };
    }
    const attributes: Attributes = {
      [ATTR.rpcSystem]: 'grpc',
      [ATTR.rpcMethod]: `raft.Raft/${method}`,
      [ATTR.peerId]: peer,
      ...requestAttributes(m),
    };
    if (address) {
      const { host, port } = addrParts(address);
      Object.assign(attributes, {
        [ATTR.serverAddress]: host,
        [ATTR.serverPort]: port,
        [ATTR.networkPeerAddress]: host,
        [ATTR.networkPeerPort]: port,
      });
    }
    const span = parent.ctx
      ? startSpan(this.env, SPAN.rpc(method), parent.ctx, attributes, SpanKind.CLIENT, parent.links)
      : startRoot(this.env, SPAN.rpc(method), parent.kind, attributes, SpanKind.CLIENT, parent.links);
    parent.onStart?.(span);
    const ctx = trace.setSpan(parent.ctx ?? ROOT_CONTEXT, span);
    return { span, ctx, carrier: carrierOf(ctx), startedAt: performance.now(), method, peer };
  }

  /** The reply arrived (`reply` as the core message it became, null for a call with none). */
  clientEnd(call: OpenCall, reply: Message | null, error?: CallError): void {
    const status = error ? grpcStatusName(error.code) : 'OK';
    call.span.setAttribute(ATTR.rpcStatus, status);
    if (error) {
      call.span.setAttribute(ATTR.errorType, status);
      call.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    } else this.describeReply(call.span, reply);
    this.env.metrics?.rpcDuration.record(performance.now() - call.startedAt, {
      [ATTR.rpcMethod]: call.method,
      [ATTR.peerId]: call.peer,
      [ATTR.rpcStatus]: status,
    });
    endSpan(this.env, call.span);
  }

  /** A request arrived with the caller's carrier; `links` gives the other proposals it carries. */
  serverStart(m: RequestMessage, peer: string, carrier: Carrier, links: () => Link[]): OpenCall {
    const method = m.type;
    const parent = contextFromCarrier(carrier) ?? ROOT_CONTEXT;
    const unsampled = unsampledParent(parent);
    if (unsampled) {
      const span = trace.wrapSpanContext(unsampled);
      return { span, ctx: parent, carrier: {}, startedAt: performance.now(), method, peer };
    }
    const span = startSpan(
      this.env,
      SPAN.rpc(method),
      parent,
      {
        [ATTR.rpcSystem]: 'grpc',
        [ATTR.rpcMethod]: `raft.Raft/${method}`,
        [ATTR.peerId]: peer,
        [ATTR.traceKind]: SERVER_KIND[method],
        ...requestAttributes(m),
      },
      SpanKind.SERVER,
      links(),
    );
    return { span, ctx: trace.setSpan(parent, span), carrier: {}, startedAt: performance.now(), method, peer };
  }

  serverEnd(call: OpenCall, reply: Message | null, error?: CallError): void {
    const status = error ? grpcStatusName(error.code) : 'OK';
    call.span.setAttribute(ATTR.rpcStatus, status);
    if (error) {
      call.span.setAttribute(ATTR.errorType, status);
      if (SERVER_FAULTS.has(error.code)) call.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      else addEvent(this.env, call.span, `refused: ${error.message}`);
    } else this.describeReply(call.span, reply);
    endSpan(this.env, call.span);
  }

  /** An injected fault. It marks the active call's span; a fault that struck before there was
   *  one (a cut inbound link refuses the call before it is read) gets a span of its own. */
  chaos(
    info: { method: RpcMethod; peer: string; direction: 'out' | 'in' },
    event: ChaosEvent,
    active: Span | null,
  ): void {
    const attrs: Attributes = {
      [ATTR.chaosKind]: event.kind,
      [ATTR.peerId]: info.peer,
      ...(event.kind === 'delayed' ? { [ATTR.chaosDelayMs]: event.ms } : {}),
      ...(event.kind === 'dropped_request' ? { [ATTR.chaosReason]: event.reason } : {}),
    };
    const name = `chaos: ${event.kind === 'delayed' ? `delayed ${event.ms} ms` : event.kind === 'dropped_reply' ? 'reply dropped after the handler ran' : `request dropped (${event.reason})`}`;
    this.env.metrics?.chaos.add(1, { [ATTR.chaosKind]: event.kind, [ATTR.rpcMethod]: info.method });
    if (active) {
      addEvent(this.env, active, name, attrs);
      return;
    }
    const now = this.env.now() ?? Date.now();
    const last = this.chaosSpanAt.get(info.peer);
    if (last && now - last.at < STANDALONE_CHAOS_EVERY_MS) {
      last.suppressed++;
      return;
    }
    this.chaosSpanAt.set(info.peer, { at: now, suppressed: 0 });
    const span = startRoot(
      this.env,
      SPAN.rpc(info.method),
      'admin',
      {
        [ATTR.rpcSystem]: 'grpc',
        [ATTR.rpcMethod]: `raft.Raft/${info.method}`,
        [ATTR.peerId]: info.peer,
        [ATTR.rpcStatus]: 'UNAVAILABLE',
        [ATTR.errorType]: 'UNAVAILABLE',
        [ATTR.chaosSuppressed]: last?.suppressed ?? 0,
      },
      info.direction === 'in' ? SpanKind.SERVER : SpanKind.CLIENT,
    );
    addEvent(this.env, span, name, attrs);
    span.setStatus({ code: SpanStatusCode.ERROR, message: name });
    endSpan(this.env, span);
  }

  private describeReply(span: Span, reply: Message | null): void {
    const attrs = replyAttributes(reply);
    span.setAttributes(attrs);
    if (reply?.type === 'AppendEntriesResponse' && !reply.success)
      addEvent(
        this.env,
        span,
        `rejected: the follower's log conflicts (term ${reply.conflictTerm} from index ${reply.conflictIndex}); the leader backs up`,
        attrs,
      );
    if (reply?.type === 'RequestVoteResponse' && !reply.granted)
      addEvent(this.env, span, `vote refused: ${reply.reason ?? 'unknown'}`, attrs);
  }
}

function requestAttributes(m: RequestMessage): Attributes {
  const a: Attributes = { [ATTR.term]: m.term };
  switch (m.type) {
    case 'RequestVote':
      Object.assign(a, {
        [ATTR.candidateId]: m.from,
        [ATTR.preVote]: m.preVote,
        [ATTR.lastLogIndex]: m.lastLogIndex,
        [ATTR.lastLogTerm]: m.lastLogTerm,
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

function replyAttributes(reply: Message | null): Attributes {
  switch (reply?.type) {
    case 'RequestVoteResponse':
      return { [ATTR.voteGranted]: reply.granted, ...(reply.reason ? { [ATTR.voteRejectReason]: reply.reason } : {}) };
    case 'AppendEntriesResponse':
      return reply.success
        ? { [ATTR.appendSuccess]: true, [ATTR.matchIndex]: reply.matchIndex }
        : {
            [ATTR.appendSuccess]: false,
            [ATTR.conflictIndex]: reply.conflictIndex,
            [ATTR.conflictTerm]: reply.conflictTerm,
            [ATTR.rejectedIndex]: reply.rejectedIndex,
          };
    case 'InstallSnapshotResponse':
      return { [ATTR.matchIndex]: reply.matchIndex };
    case 'ReadIndexResponse':
      return { [ATTR.readIndex]: reply.index };
    default:
      return {};
  }
}

// The gRPC client side of one node: one channel per peer, a deadline on every call, reconnection
// with backoff (grpc-js), and a cap on calls in flight per peer, so a dead or black-holed peer
// can neither grow memory without bound nor slow down heartbeats to the live ones (each peer has
// its own channel). A message that cannot go is dropped: Raft retries by design.
//
// AppendEntries (heartbeats included) and Forward, the calls made for every write, and ReadIndex,
// made for every linearizable read at a follower, travel as frames on one long-lived stream per
// peer (pipe-client.ts); the rare ones (RequestVote, InstallSnapshot, TimeoutNow) are unary calls. Both look the same from here up.
import { Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import type { NodeId } from '../raft/types.js';
import type { Chaos } from './chaos.js';
import {
  decodeReply,
  encodeRequest,
  METHOD_OF,
  type RequestMessage,
  type ResponseMessage,
  type RpcMethod,
} from './codec.js';
import type { ForwardReply__Output } from './generated/raft/ForwardReply.js';
import type { RaftClient } from './generated/raft/Raft.js';
import type { RpcHooks } from './hooks.js';
import { authenticate, channelCredentials, type PeerSecurity } from './peer-auth.js';
import { PipeClient } from './pipe-client.js';
import { MAX_MESSAGE_BYTES, raftProto } from './proto.js';

/** The least time between two DNS resolutions of a peer's host name (grpc-js's default is 30 s). */
export const DNS_MIN_RESOLUTION_MS = 100;

export interface ClientOptions {
  nodeId: NodeId;
  chaos: Chaos;
  hooks: RpcHooks;
  /** The gRPC address of a peer, or undefined when unknown. */
  resolve: (peer: NodeId) => string | undefined;
  /** A reply arrived (the node steps it into the core). */
  deliver: (reply: ResponseMessage) => void;
  /** A call failed: for logs and metrics. */
  onFailure?: (peer: NodeId, method: RpcMethod, code: status, details: string) => void;
  /** Deadline of ordinary calls, and of InstallSnapshot. */
  timeoutMs: number;
  snapshotTimeoutMs: number;
  maxInFlightPerPeer: number;
  /** The cluster secret and/or TLS material every call carries. */
  security: PeerSecurity;
}

interface Peer {
  address: string;
  client: RaftClient;
  /** The stream that carries this node's AppendEntries, Forward and ReadIndex calls to the peer. */
  pipe: PipeClient;
  inFlight: number;
  /** Forwarded client writes in flight (counted apart: they must not crowd out Raft's own calls). */
  forwards: number;
}

/** Forwarded writes in flight to one leader, at most: beyond, a write is refused (not sent). */
const MAX_FORWARDS_PER_PEER = 4096;

/** A forwarded write that could not be sent, or whose answer never came. `sent` says whether the
 *  leader may have received it (then its outcome is unknown). */
export class ForwardFailure extends Error {
  constructor(
    readonly code: status,
    readonly sent: boolean,
    message: string,
  ) {
    super(message);
  }
}

/** grpc-js's words for a call that never left this node (no connection could be made). */
const NOT_SENT = /^(No connection established|failed to connect|Name resolution failed)/i;

export class PeerClients {
  private peers = new Map<NodeId, Peer>();

  constructor(private readonly opts: ClientOptions) {}

  /** Sends a request; its reply (if any) comes back through `deliver`. Never throws. */
  send(m: RequestMessage): void {
    const method = METHOD_OF[m.type];
    const peer = this.peer(m.to);
    if (!peer) {
      this.opts.onFailure?.(m.to, method, status.UNAVAILABLE, `no address known for ${m.to}`);
      return;
    }
    if (peer.inFlight >= this.opts.maxInFlightPerPeer) {
      this.opts.onFailure?.(
        m.to,
        method,
        status.RESOURCE_EXHAUSTED,
        `${peer.inFlight} calls to ${m.to} already in flight`,
      );
      return;
    }
    peer.inFlight++;
    const { hooks, chaos } = this.opts;
    hooks
      .clientCall({ method, peer: m.to, address: peer.address, message: m }, async (metadata) => {
        const fault = chaos.outbound(m.to);
        if (fault.drop) {
          hooks.chaos(
            { method, peer: m.to, direction: 'out', message: m },
            { kind: 'dropped_request', peer: m.to, reason: fault.drop },
          );
          throw Object.assign(new Error(`chaos: ${fault.drop}`), {
            code: status.UNAVAILABLE,
            details: `chaos: ${fault.drop}`,
          });
        }
        if (fault.delayMs > 0) {
          hooks.chaos(
            { method, peer: m.to, direction: 'out', message: m },
            { kind: 'delayed', peer: m.to, ms: fault.delayMs },
          );
          await new Promise((r) => setTimeout(r, fault.delayMs));
        }
        // Decoded here, once: the hooks (span attributes) and the core read the same message, and
        // a malformed reply fails the call like any other failure.
        return decodeReply(method, await this.call(peer, method, m, metadata));
      })
      .then(
        (reply) => {
          if (reply) this.opts.deliver(reply);
        },
        (e: Partial<ServiceError>) =>
          this.opts.onFailure?.(m.to, method, e.code ?? status.UNKNOWN, e.details ?? e.message ?? 'unknown failure'),
      )
      .finally(() => {
        peer.inFlight--;
      });
  }

  /** Forwards a client's write (a state machine command, JSON) to the leader over the same channel
   *  as Raft's own calls, and resolves with the leader's answer. Rejects with a ForwardFailure when
   *  the call failed; chaos applies as to any call (a cut link, a dropped or delayed request). */
  async forward(
    header: { clusterId: string; to: NodeId },
    command: string,
    metadata: Metadata,
    timeoutMs: number,
  ): Promise<ForwardReply__Output> {
    const peer = this.peer(header.to);
    if (!peer) throw new ForwardFailure(status.UNAVAILABLE, false, `no gRPC address known for ${header.to}`);
    if (peer.forwards >= MAX_FORWARDS_PER_PEER)
      throw new ForwardFailure(status.RESOURCE_EXHAUSTED, false, `${peer.forwards} writes to ${header.to} in flight`);
    const fault = this.opts.chaos.outbound(header.to);
    if (fault.drop) throw new ForwardFailure(status.UNAVAILABLE, false, `chaos: ${fault.drop}`);
    if (fault.delayMs > 0) await new Promise((r) => setTimeout(r, fault.delayMs));
    peer.forwards++;
    const forward = raftProto().raft.Raft.service.Forward;
    try {
      const request = forward.requestSerialize({
        header: { clusterId: header.clusterId, from: this.opts.nodeId, to: header.to, term: 0 },
        command,
      });
      return forward.responseDeserialize(await peer.pipe.call('Forward', request, metadata, timeoutMs));
    } catch (e) {
      const { code, details } = e as { code: status; details: string };
      // Refused before the request left (no connection, the leader refused it unread, a link
      // cut at its end): certainly not applied. Anything else may have reached the leader.
      const sent = !(
        (code === status.UNAVAILABLE && (NOT_SENT.test(details) || details.startsWith('chaos: link'))) ||
        code === status.UNAUTHENTICATED ||
        code === status.PERMISSION_DENIED ||
        code === status.FAILED_PRECONDITION ||
        code === status.INVALID_ARGUMENT ||
        code === status.UNIMPLEMENTED
      );
      throw new ForwardFailure(code, sent, details);
    } finally {
      peer.forwards--;
    }
  }

  private async call(peer: Peer, method: RpcMethod, m: RequestMessage, metadata: Metadata): Promise<unknown> {
    const timeout = method === 'InstallSnapshot' ? this.opts.snapshotTimeoutMs : this.opts.timeoutMs;
    if (method === 'AppendEntries' || method === 'ReadIndex') {
      const def = raftProto().raft.Raft.service[method];
      return def.responseDeserialize(
        await peer.pipe.call(method, def.requestSerialize(encodeRequest(m)), metadata, timeout),
      );
    }
    const client = peer.client;
    const deadline = new Date(Date.now() + timeout);
    return new Promise((resolve, reject) => {
      authenticate(metadata, this.opts.security, this.opts.nodeId);
      type Unary = (
        req: unknown,
        md: Metadata,
        opts: { deadline: Date },
        cb: (err: ServiceError | null, reply: unknown) => void,
      ) => void;
      const fn = (client as unknown as Record<RpcMethod, Unary>)[method].bind(client);
      fn(encodeRequest(m), metadata, { deadline }, (err, reply) => (err ? reject(err) : resolve(reply)));
    });
  }

  private peer(id: NodeId): Peer | undefined {
    const address = this.opts.resolve(id);
    if (!address) return undefined;
    let p = this.peers.get(id);
    if (p && p.address !== address) {
      p.pipe.close();
      (p.client as unknown as Client).close();
      p = undefined;
    }
    if (!p) {
      const Ctor = raftProto().raft.Raft;
      const client = new Ctor(address, channelCredentials(this.opts.security, id), {
        'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
        'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
        // A restarted peer should be reachable again within a heartbeat or two.
        'grpc.initial_reconnect_backoff_ms': 50,
        'grpc.min_reconnect_backoff_ms': 50,
        'grpc.max_reconnect_backoff_ms': 500,
        // A peer known by a host name (a compose service) may come back at another address: grpc-js
        // re-resolves a name at most once per this many ms (30 s by default), so without this a
        // restarted container stays unreachable for up to 30 s. Resolving is cheap next to a
        // reconnect attempt, and attempts are already paced by the backoff above.
        'grpc.dns_min_time_between_resolutions_ms': DNS_MIN_RESOLUTION_MS,
        // With mTLS, the server is known by its node id (its certificate's name), not its address.
        ...(this.opts.security.tls ? { 'grpc.ssl_target_name_override': id } : {}),
      });
      const security = this.opts.security;
      const from = this.opts.nodeId;
      const pipe = new PipeClient(() => {
        const md = new Metadata();
        authenticate(md, security, from);
        return client.Pipe(md);
      });
      p = { address, client, pipe, inFlight: 0, forwards: 0 };
      this.peers.set(id, p);
    }
    return p;
  }

  close(): void {
    for (const p of this.peers.values()) {
      p.pipe.close();
      (p.client as unknown as Client).close();
    }
    this.peers.clear();
  }
}

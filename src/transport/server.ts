// The gRPC server side of one node: decodes each call, refuses what it must (another cluster, a
// malformed request, a link cut by chaos), hands the request to the node and answers with the
// node's reply, which the node produces only after its state is durable.
import { Server, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { NodeId } from '../raft/types.js';
import { messageProblem } from '../raft/validate.js';
import type { Chaos } from './chaos.js';
import {
  BadMessage,
  decodeRequest,
  encodeReply,
  type RequestMessage,
  type ResponseMessage,
  type RpcMethod,
} from './codec.js';
import type { RpcHooks } from './hooks.js';
import { authInterceptor, senderMatches, serverCredentials, type PeerSecurity } from './peer-auth.js';
import { MAX_MESSAGE_BYTES, raftProto } from './proto.js';

/** An error with the gRPC status to answer with. */
export class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

export type RequestHandler = (m: RequestMessage) => Promise<ResponseMessage | null>;

export interface ServerOptions {
  clusterId: string;
  nodeId: NodeId;
  chaos: Chaos;
  hooks: RpcHooks;
  handler: RequestHandler;
  /** How callers prove they are members (see peer-auth.ts). */
  security: PeerSecurity;
  /** A call refused before it was read (for logs: the reason, never the secret). */
  onRefused?: (reason: string, peer: string) => void;
}

export class RaftServer {
  private server: Server;

  constructor(private readonly opts: ServerOptions) {
    const secured = opts.security.secret !== null || opts.security.tls !== null;
    this.server = new Server({
      // Larger messages are refused by grpc-js as their frames arrive, before any decoding.
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      interceptors: secured ? [authInterceptor(opts.security, (r, p) => opts.onRefused?.(r, p))] : [],
    });
    const methods: RpcMethod[] = ['RequestVote', 'AppendEntries', 'InstallSnapshot', 'TimeoutNow', 'ReadIndex'];
    const impl = Object.fromEntries(methods.map((m) => [m, this.unary(m)]));
    this.server.addService(raftProto().raft.Raft.service, impl);
  }

  /** Binds `host:port` (port 0 picks a free one); resolves with the port bound. */
  listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, serverCredentials(this.opts.security), (err, port) =>
        err ? reject(err) : resolve(port),
      );
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }

  forceClose(): void {
    this.server.forceShutdown();
  }

  private unary(method: RpcMethod) {
    return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const fail = (code: status, details: string) =>
        callback({ code, details, name: 'RaftRpcError', message: details });
      let m: RequestMessage;
      try {
        m = decodeRequest(method, call.request);
      } catch (e) {
        return fail(status.INVALID_ARGUMENT, e instanceof BadMessage ? e.message : `undecodable ${method}`);
      }
      // Terms and indexes the core cannot represent and increment, and other malformed shapes,
      // are refused here, at the edge, before any node state is touched.
      const shape = messageProblem(m);
      if (shape) return fail(status.INVALID_ARGUMENT, `malformed ${method}: ${shape}`);
      const { clusterId, nodeId, chaos, hooks, handler, security } = this.opts;
      // The headers (and certificate) vouched for one node: the message must come from that one.
      if ((security.secret !== null || security.tls !== null) && !senderMatches(call.metadata, m.from))
        return fail(status.PERMISSION_DENIED, `the call was authenticated for another node than ${m.from}`);
      if (m.clusterId !== clusterId) {
        return fail(
          status.FAILED_PRECONDITION,
          `wrong cluster: this node belongs to cluster "${clusterId}", the request to "${m.clusterId}"`,
        );
      }
      if (m.to !== nodeId) return fail(status.FAILED_PRECONDITION, `request for ${m.to} reached ${nodeId}`);
      if (chaos.inboundCut(m.from)) {
        hooks.chaos(
          { method, peer: m.from, direction: 'in' },
          { kind: 'dropped_request', peer: m.from, reason: `link from ${m.from} is cut` },
        );
        return fail(status.UNAVAILABLE, `chaos: link from ${m.from} to ${nodeId} is cut`);
      }
      hooks
        .serverCall({ method, peer: m.from, message: m }, call.metadata, async () => {
          const reply = await handler(m);
          if (chaos.dropReply()) {
            hooks.chaos({ method, peer: m.from, direction: 'in' }, { kind: 'dropped_reply', peer: m.from });
            throw new RpcError(status.UNAVAILABLE, 'chaos: reply dropped after the request was handled');
          }
          return reply;
        })
        .then(
          (reply) => callback(null, encodeReply(reply)),
          (e: unknown) =>
            fail(e instanceof RpcError ? e.code : status.INTERNAL, e instanceof Error ? e.message : String(e)),
        );
    };
  }
}

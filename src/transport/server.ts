// The gRPC server side of one node: decodes each call, refuses what it must (another cluster, a
// malformed request, a link cut by chaos), hands the request to the node and answers with the
// node's reply, which the node produces only after its state is durable.
import {
  status,
  Server,
  type Metadata,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { GRPC_STATUS, type RpcErrorCode } from '../node/errors.js';
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
import type { ForwardReply } from './generated/raft/ForwardReply.js';
import type { ForwardRequest__Output } from './generated/raft/ForwardRequest.js';
import type { RpcHooks } from './hooks.js';
import { authInterceptor, senderMatches, serverCredentials, type PeerSecurity } from './peer-auth.js';
import { PipeServer, type PipeAnswer } from './pipe-server.js';
import { MAX_MESSAGE_BYTES, raftProto } from './proto.js';

/** How a call ends, whichever way it came (unary, or a frame on a pipe). */
type Answer<T> = (error: { code: status; details: string } | null, reply?: T) => void;

/** An error a peer call is answered with, named by its reason; `code` is the gRPC status the
 *  table in src/node/errors.ts gives that reason (what the tracing hooks and gRPC read). */
export class RpcError extends Error {
  readonly code: status;
  constructor(
    readonly reason: RpcErrorCode,
    message: string,
  ) {
    super(message);
    this.code = GRPC_STATUS[reason];
  }
}

export type RequestHandler = (m: RequestMessage) => Promise<ResponseMessage | null>;

/** Serves a client write a follower forwarded (`command`, JSON) from `from`; `metadata` carries the
 *  caller's trace context. Resolves with the answer for the follower (an error is an answer too). */
export type ForwardHandler = (from: NodeId, command: string, metadata: Metadata) => Promise<ForwardReply>;

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
  private forwardHandler: ForwardHandler | null = null;
  private readonly pipes = new PipeServer((method, request, md, answer) => this.piped(method, request, md, answer));

  constructor(private readonly opts: ServerOptions) {
    const secured = opts.security.secret !== null || opts.security.tls !== null;
    this.server = new Server({
      // Larger messages are refused by grpc-js as their frames arrive, before any decoding.
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      interceptors: secured ? [authInterceptor(opts.security, (r, p) => opts.onRefused?.(r, p))] : [],
    });
    const methods: RpcMethod[] = ['RequestVote', 'AppendEntries', 'InstallSnapshot', 'TimeoutNow', 'ReadIndex'];
    const unary =
      <T>(serve: (request: T, md: Metadata, answer: Answer<unknown>) => void) =>
      (call: ServerUnaryCall<T, unknown>, callback: sendUnaryData<unknown>) =>
        serve(call.request, call.metadata, (error, reply) =>
          error ? callback({ ...error, name: 'RaftRpcError', message: error.details }) : callback(null, reply),
        );
    const impl: UntypedServiceImplementation = Object.fromEntries(
      methods.map((m) => [m, unary((request, md, answer) => this.serveCall(m, request, md, answer))]),
    );
    impl.Forward = unary((request: ForwardRequest__Output, md, answer) => this.serveForward(request, md, answer));
    impl.Pipe = this.pipes.accept.bind(this.pipes);
    this.server.addService(raftProto().raft.Raft.service, impl);
  }

  /** Who serves forwarded writes (the HTTP API layer, which knows what a write answers). Until one
   *  is set, Forward answers UNIMPLEMENTED. */
  setForwardHandler(handler: ForwardHandler): void {
    this.forwardHandler = handler;
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
    const done = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    // Open pipes never end on their own: end them, or the shutdown would wait for them forever.
    this.pipes.closeAll();
    await done;
  }

  forceClose(): void {
    this.server.forceShutdown();
  }

  /** A call carried by a pipe: decoded as the method's request, served as that unary call is,
   *  answered encoded as its reply. Only the methods a pipe carries are served this way. */
  private piped(method: string, request: Buffer, md: Metadata, answer: PipeAnswer): void {
    const def = pipedMethod(method);
    if (!def) return answer({ code: status.UNIMPLEMENTED, details: `${method} is not carried by a pipe` });
    let decoded: unknown;
    try {
      decoded = def.requestDeserialize(request);
    } catch (e) {
      return answer({ code: GRPC_STATUS.malformed, details: `undecodable ${method}: ${(e as Error).message}` });
    }
    const encoded: Answer<unknown> = (error, reply) => {
      if (error) return answer(error);
      try {
        answer(null, def.responseSerialize(reply));
      } catch (e) {
        answer({ code: status.INTERNAL, details: `cannot encode the ${method} reply: ${(e as Error).message}` });
      }
    };
    if (method === 'Forward') this.serveForward(decoded as ForwardRequest__Output, md, encoded);
    else this.serveCall(method === 'ReadIndex' ? 'ReadIndex' : 'AppendEntries', decoded, md, encoded);
  }

  /** Forward: checked like every call (the interceptor authenticated its headers before this
   *  runs; the sender must be the one authenticated, of this cluster, for this node, on a link
   *  chaos has not cut), then handed to the forward handler. */
  private serveForward(request: ForwardRequest__Output, metadata: Metadata, callback: Answer<ForwardReply>) {
    const fail = (code: RpcErrorCode, details: string) => callback({ code: GRPC_STATUS[code], details });
    const { clusterId, nodeId, chaos, security } = this.opts;
    const h = request.header;
    if (!h || !h.from || !h.to) return fail('malformed', 'Forward has no header (cluster_id, from, to)');
    if (typeof request.command !== 'string' || !request.command) return fail('malformed', 'Forward has no command');
    if ((security.secret !== null || security.tls !== null) && !senderMatches(metadata, h.from))
      return fail('wrong_sender', `the call was authenticated for another node than ${h.from}`);
    if (h.clusterId !== clusterId)
      return fail(
        'wrong_cluster',
        `wrong cluster: this node belongs to cluster "${clusterId}", the request to "${h.clusterId}"`,
      );
    if (h.to !== nodeId) return fail('wrong_node', `request for ${h.to} reached ${nodeId}`);
    if (chaos.inboundCut(h.from)) return fail('link_cut', `chaos: link from ${h.from} to ${nodeId} is cut`);
    const handler = this.forwardHandler;
    if (!handler) return fail('not_served', `${nodeId} does not serve forwarded writes`);
    handler(h.from, request.command, metadata).then(
      (reply) =>
        chaos.dropReply()
          ? fail('reply_dropped', 'chaos: reply dropped after the request was handled')
          : callback(null, reply),
      (e: unknown) => fail('internal', e instanceof Error ? e.message : String(e)),
    );
  }

  /** One of Raft's own calls: checked at the edge, then handed to the node. */
  private serveCall(method: RpcMethod, request: unknown, metadata: Metadata, callback: Answer<unknown>) {
    const fail = (code: RpcErrorCode, details: string) => callback({ code: GRPC_STATUS[code], details });
    let m: RequestMessage;
    try {
      m = decodeRequest(method, request);
    } catch (e) {
      return fail('malformed', e instanceof BadMessage ? e.message : `undecodable ${method}`);
    }
    // Terms and indexes the core cannot represent and increment, and other malformed shapes,
    // are refused here, at the edge, before any node state is touched.
    const shape = messageProblem(m);
    if (shape) return fail('malformed', `malformed ${method}: ${shape}`);
    const { clusterId, nodeId, chaos, hooks, handler, security } = this.opts;
    // The headers (and certificate) vouched for one node: the message must come from that one.
    if ((security.secret !== null || security.tls !== null) && !senderMatches(metadata, m.from))
      return fail('wrong_sender', `the call was authenticated for another node than ${m.from}`);
    if (m.clusterId !== clusterId) {
      return fail(
        'wrong_cluster',
        `wrong cluster: this node belongs to cluster "${clusterId}", the request to "${m.clusterId}"`,
      );
    }
    if (m.to !== nodeId) return fail('wrong_node', `request for ${m.to} reached ${nodeId}`);
    if (chaos.inboundCut(m.from)) {
      hooks.chaos(
        { method, peer: m.from, direction: 'in', message: m },
        { kind: 'dropped_request', peer: m.from, reason: `link from ${m.from} is cut` },
      );
      return fail('link_cut', `chaos: link from ${m.from} to ${nodeId} is cut`);
    }
    hooks
      .serverCall({ method, peer: m.from, message: m }, metadata, async () => {
        const reply = await handler(m);
        if (chaos.dropReply()) {
          hooks.chaos({ method, peer: m.from, direction: 'in', message: m }, { kind: 'dropped_reply', peer: m.from });
          throw new RpcError('reply_dropped', 'chaos: reply dropped after the request was handled');
        }
        return reply;
      })
      .then(
        (reply) => callback(null, encodeReply(reply)),
        (e: unknown) => fail(e instanceof RpcError ? e.reason : 'internal', e instanceof Error ? e.message : String(e)),
      );
  }
}

/** The methods a pipe carries, with their encodings (proto/raft.proto's, as a unary call's). */
function pipedMethod(
  method: string,
): { requestDeserialize(b: Buffer): unknown; responseSerialize(v: unknown): Buffer } | undefined {
  const service = raftProto().raft.Raft.service;
  return method === 'AppendEntries' || method === 'Forward' || method === 'ReadIndex' ? service[method] : undefined;
}

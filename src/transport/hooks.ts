// The seam where telemetry wraps every RPC. The transport calls these around each outgoing and
// incoming call; the default does nothing but pass metadata along. The tracing layer supplies
// hooks that start CLIENT and SERVER spans and carry W3C traceparent in the gRPC metadata.
import { Metadata } from '@grpc/grpc-js';
import type { NodeId } from '../raft/types.js';
import type { ChaosEvent } from './chaos.js';
import type { RequestMessage, ResponseMessage, RpcMethod } from './codec.js';

export interface ClientCallInfo {
  method: RpcMethod;
  peer: NodeId;
  address: string;
  message: RequestMessage;
}

export interface ServerCallInfo {
  method: RpcMethod;
  peer: NodeId;
  message: RequestMessage;
}

export interface RpcHooks {
  /** Wraps an outgoing call: `send` performs it with the metadata given (where trace context goes)
   *  and resolves with the reply already decoded by the transport, so a hook reads its fields
   *  without decoding the gRPC reply a second time. */
  clientCall(
    info: ClientCallInfo,
    send: (metadata: Metadata) => Promise<ResponseMessage | null>,
  ): Promise<ResponseMessage | null>;
  /** Wraps the handling of an incoming call; `metadata` is what the caller sent, `handle` resolves
   *  with the node's reply (null for TimeoutNow). */
  serverCall(
    info: ServerCallInfo,
    metadata: Metadata,
    handle: () => Promise<ResponseMessage | null>,
  ): Promise<ResponseMessage | null>;
  /** An injected fault happened to a call: `message` is the request, the same object the call's
   *  clientCall or serverCall was given (when the fault struck inside one). */
  chaos(
    info: { method: RpcMethod; peer: NodeId; direction: 'out' | 'in'; message: RequestMessage },
    event: ChaosEvent,
  ): void;
}

export const PLAIN_HOOKS: RpcHooks = {
  clientCall: (_info, send) => send(new Metadata()),
  serverCall: (_info, _metadata, handle) => handle(),
  chaos: () => {},
};

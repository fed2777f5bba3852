// What a node is built from, as small interfaces: its storage, its peer transport (server and
// clients) and its state machine. As hashicorp/raft's NewRaft takes its LogStore, StableStore,
// Transport and FSM, the caller builds them (src/node/factory.ts: the disk, gRPC and the
// key/value store) and a test can hand in fakes (test/node/collaborators.test.ts). The node only
// calls what is declared here.
import type { Metadata } from '@grpc/grpc-js';
import type { KvStateMachine } from '../kv/state-machine.js';
import type { ConfState, NodeId, Ready } from '../raft/types.js';
import type { DiskFaults, LoadResult, StorageStats } from '../storage/storage.js';
import type { ClientOptions } from '../transport/client.js';
import type { RequestMessage } from '../transport/codec.js';
import type { ForwardReply__Output } from '../transport/generated/raft/ForwardReply.js';
import type { ForwardHandler, ServerOptions } from '../transport/server.js';

/** Durable state: each Ready written (fsync'd when it must be) before the promise resolves. */
export interface NodeStorage {
  /** Injected disk faults (the admin API changes them in place). */
  readonly faults: DiskFaults;
  readonly stats: StorageStats;
  persist(rd: Ready): Promise<void>;
  close(): Promise<void>;
}

/** Serves the peers' calls (handed to `ServerOptions.handler`) and forwarded writes. */
export interface PeerServer {
  /** Starts serving at `address`; resolves with the port bound. */
  listen(address: string): Promise<number>;
  setForwardHandler(handler: ForwardHandler): void;
  close(): Promise<void>;
  forceClose(): void;
}

/** Calls the peers: replies come back through `ClientOptions.deliver`. */
export interface PeerClients {
  send(m: RequestMessage): void;
  forward(
    header: { clusterId: string; to: NodeId },
    command: string,
    metadata: Metadata,
    timeoutMs: number,
  ): Promise<ForwardReply__Output>;
  close(): void;
}

/** The part of the key/value state machine a node uses. */
export type NodeStateMachine = Pick<
  KvStateMachine,
  'apply' | 'restore' | 'snapshot' | 'get' | 'appliedIndex' | 'members' | 'locks' | 'fencing' | 'clock'
>;

export interface NodeCollaborators {
  /** Opens (or creates) the node's storage and loads what it holds. */
  openStorage(dataDir: string, bootstrap: ConfState): Promise<{ storage: NodeStorage; loaded: LoadResult }>;
  server(opts: ServerOptions): PeerServer;
  clients(opts: ClientOptions): PeerClients;
  stateMachine(): NodeStateMachine;
}

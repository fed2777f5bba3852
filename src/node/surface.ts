// What the HTTP API may do with its node, and nothing more: the node's insides (the core, the
// state machine, storage, fault injection, tracing) stay private to src/node/node.ts. A test
// (test/architecture.test.ts) holds src/api/ to importing only this from src/node/ (and errors).
import type { Raft } from '../raft/raft.js';
import type { ConfChange, ConfState, NodeId } from '../raft/types.js';
import type { KvCommand, KvResult } from '../kv/commands.js';
import type { DiskFaults, StorageStats } from '../storage/storage.js';
import type { ChaosSettings } from '../transport/chaos.js';
import type { Metadata } from '@grpc/grpc-js';
import type { Context } from '@opentelemetry/api';
import type { ForwardHandler } from '../transport/server.js';
import type { ForwardReply__Output } from '../transport/generated/raft/ForwardReply.js';
import type { NodeConfig } from './config.js';
import type { Logger } from './log.js';

/** A command's fate: its result and the index of the entry that carried it. When an idempotent
 *  request was replayed, `result.index` is the first application's index, not `index`. */
export interface Applied {
  result: KvResult | null;
  index: number;
}

export type ReadConsistency = 'linearizable' | 'lease' | 'stale';

export interface NodeCounters {
  leaderChanges: number;
  electionsStarted: number;
  electionsWon: number;
  proposals: number;
  rejectedMessages: number;
  refusedPeerCalls: number;
}

type RaftStatus = ReturnType<Raft['status']>;

/** The body of GET /status. */
export interface NodeStatus {
  id: NodeId;
  clusterId: string;
  /** Tells a supervisor its own node from another process answering on the same port. */
  pid: number;
  role: RaftStatus['role'];
  term: number;
  leader: NodeId | null;
  commitIndex: number;
  lastApplied: number;
  lastLogIndex: number;
  snapshotIndex: number;
  members: ConfState;
  progress: RaftStatus['progress'];
  leaseValid: boolean;
  storage: StorageStats;
  counters: NodeCounters;
}

/** A lock as the state machine holds it, at its log time. */
export interface LockView {
  holder: { owner: string; token: number; expiresAt: number } | null;
  highestToken: number;
  logTime: number;
}

export interface NodeSurface {
  readonly cfg: NodeConfig;
  readonly log: Logger;
  /** Whether this node records spans (the HTTP layer adds its own then). */
  readonly tracingEnabled: boolean;
  leaderId(): NodeId | null;
  isLeader(): boolean;
  /** A member's addresses, from the replicated address book or the initial peer list. */
  address(id: NodeId): { grpc: string; http: string } | undefined;
  status(): NodeStatus;
  /** Proposes `cmd` (this node must lead) and resolves once it is applied. `traceContext` is the
   *  asking request's (the proposal's span is its child); contexts do not cross awaits by themselves. */
  propose(cmd: KvCommand, traceContext?: Context): Promise<Applied>;
  read(
    key: string,
    consistency: ReadConsistency,
    maxStalenessMs?: number,
    traceContext?: Context,
  ): Promise<{ value: string | undefined; index: number }>;

  // Forwarded writes (src/api/forward.ts): this node's peer transport, and nothing more of it
  /** Sends a client's write (a command, JSON) to `leader`; rejects with a ForwardFailure. */
  forwardToLeader(leader: NodeId, command: string, md: Metadata, timeoutMs: number): Promise<ForwardReply__Output>;
  /** Who serves the writes followers forward to this node. */
  serveForwards(handler: ForwardHandler): void;

  // Membership (on the leader)
  members(): ConfState;
  /** Why `change` would be refused now, or null. */
  checkConfChange(change: ConfChange): { reason: string; leader: NodeId | null } | null;
  changeMembership(change: ConfChange): Promise<Applied>;
  /** Whether `id` holds everything in the leader's log (a learner ready to be promoted). */
  caughtUp(id: NodeId): boolean;
  transferLeadership(target?: NodeId): Promise<NodeId>;
  snapshotNow(): { index: number };

  /** A lock as this node's state machine holds it (read it after a linearizable read). */
  lockView(name: string): LockView;

  // Injected faults
  faults(): { chaos: ChaosSettings; disk: DiskFaults };
  setChaos(patch: Partial<ChaosSettings>): ChaosSettings;
  setDiskFaults(patch: Partial<DiskFaults>): DiskFaults;
}

// The vocabulary of the consensus core: log entries, persistent state, messages between nodes,
// the batch of work the core hands back (Ready), and the observations the tracing layer turns
// into spans. Everything here is plain data (JSON-safe), so it can be persisted, sent over gRPC,
// printed in a simulator timeline or compared in a test without conversion.

export type NodeId = string;

/** `normal` carries a client command; `noop` is the blank entry a new leader commits (§8);
 *  `config` carries a single-server membership change (§4.1 of the Raft thesis). */
export type EntryType = 'normal' | 'noop' | 'config';

export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  /** Opaque to the core: the state machine's command (or a ConfChange as JSON for `config`). */
  data: string;
  /** Opaque to the core: the proposal's trace context (W3C traceparent), replicated and
   *  persisted with the entry so every node can attach its apply span to the client's trace. */
  context: string;
}

/** Figure 2 "Persistent state on all servers", plus the commit index (persisted lazily:
 *  losing it on a crash is safe, it is learned again from the leader). */
export interface HardState {
  term: number;
  votedFor: NodeId | null;
  commit: number;
}

/** Who votes (voters) and who only receives the log (learners, non-voting members catching up). */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export type ConfChangeType = 'add_learner' | 'promote' | 'remove';
export interface ConfChange {
  type: ConfChangeType;
  node: NodeId;
}

/** §7: a snapshot replaces the log up to and including `index`. */
export interface Snapshot {
  index: number;
  term: number;
  conf: ConfState;
  /** The state machine's serialized state, opaque to the core. */
  data: string;
}

// ---------------------------------------------------------------------------------------------
// Messages. Every message names its cluster, sender, receiver and the sender's term.
// ---------------------------------------------------------------------------------------------

interface Envelope {
  clusterId: string;
  from: NodeId;
  to: NodeId;
  term: number;
}

// Replies. Messages are one-way and carry no call id: pairing a reply with the call it answers is
// the transport's job (src/transport/replies.ts). The core makes that possible with one promise:
// every RequestVote, AppendEntries and InstallSnapshot that `step` accepts (returns no refusal for)
// is answered by exactly one reply to its sender, produced during that step, so replies to one
// peer leave in the order their requests were accepted; a refused request is answered by none.
// ReadIndex replies echo the request's `requestId`; TimeoutNow has no reply.

/** Figure 2 RequestVote RPC. With `preVote` it is the Pre-Vote of thesis §9.6: the candidate
 *  asks "would you vote for me in term `term`?" without anyone changing their term. */
export interface RequestVote extends Envelope {
  type: 'RequestVote';
  lastLogIndex: number;
  lastLogTerm: number;
  preVote: boolean;
  /** Set when the election was started by TimeoutNow (leadership transfer, thesis §3.10):
   *  voters then disregard their leader lease. */
  transfer: boolean;
}

export type VoteRejectReason =
  | 'stale_term' // the candidate's term is older than the voter's (Figure 2, RequestVote rule 1)
  | 'already_voted' // the voter already voted for someone else in this term (§5.2)
  | 'log_not_up_to_date' // the candidate's log is behind the voter's (§5.4.1)
  | 'leader_lease' // the voter heard from a live leader less than an election timeout ago (§6 / thesis §4.2.3)
  | 'has_leader'; // the voter already follows a leader in this term

export interface RequestVoteResponse extends Envelope {
  type: 'RequestVoteResponse';
  granted: boolean;
  preVote: boolean;
  /** The term the candidate asked about, echoed so stale replies can be told apart. */
  candidateTerm: number;
  reason: VoteRejectReason | null;
}

/** Figure 2 AppendEntries RPC. An AppendEntries without entries is a heartbeat. */
export interface AppendEntries extends Envelope {
  type: 'AppendEntries';
  prevLogIndex: number;
  prevLogTerm: number;
  entries: Entry[];
  leaderCommit: number;
  /** Leadership-confirmation round (thesis §6.4): a follower echoes it so the leader can
   *  serve ReadIndex and lease reads once a quorum has acknowledged a round. */
  seq: number;
  heartbeat: boolean;
}

export interface AppendEntriesResponse extends Envelope {
  type: 'AppendEntriesResponse';
  success: boolean;
  /** On success: the follower's log matches the leader's up to here. */
  matchIndex: number;
  /** On rejection: the prevLogIndex that did not match, so stale rejections are recognised. */
  rejectedIndex: number;
  /** Fast backtracking hints (§5.3, "the follower can include the term of the conflicting entry
   *  and the first index it stores for that term"). conflictTerm 0 means "my log is too short". */
  conflictIndex: number;
  conflictTerm: number;
  /** The follower's last log index, for observability. */
  lastLogIndex: number;
  seq: number;
  heartbeat: boolean;
}

/** §7 InstallSnapshot RPC (sent whole: the state machines here are small). */
export interface InstallSnapshot extends Envelope {
  type: 'InstallSnapshot';
  snapshot: Snapshot;
  seq: number;
}

export interface InstallSnapshotResponse extends Envelope {
  type: 'InstallSnapshotResponse';
  matchIndex: number;
  seq: number;
}

/** Thesis §3.10: "start an election now", sent by a leader handing over leadership. */
export interface TimeoutNow extends Envelope {
  type: 'TimeoutNow';
}

/** A follower asking the leader for a read index on behalf of its client (thesis §6.4). */
export interface ReadIndexRequest extends Envelope {
  type: 'ReadIndex';
  requestId: string;
}

export interface ReadIndexResponse extends Envelope {
  type: 'ReadIndexResponse';
  requestId: string;
  /** -1 when the leader could not serve it. */
  index: number;
}

export type Message =
  | RequestVote
  | RequestVoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

export type MessageType = Message['type'];

// ---------------------------------------------------------------------------------------------
// Roles, observations, Ready.
// ---------------------------------------------------------------------------------------------

export type Role = 'follower' | 'pre_candidate' | 'candidate' | 'leader';

/** Why a node became (or stayed) a follower: a code to decide on; `reason` is the prose. */
export type FollowerCause =
  | 'higher_term' // a message carried a later term (Figure 2, All Servers)
  | 'leader_seen' // a candidate heard from the leader of its term
  | 'election_lost' // a majority refused its votes
  | 'check_quorum' // a leader lost contact with a majority (thesis §6.2)
  | 'transferred' // a leader handed leadership over (thesis §3.10)
  | 'timeout_now' // the target of a transfer, just before it campaigns
  | 'removed'; // the node was removed from the configuration

/** What happened inside the core, in order. The tracing layer turns these into spans and span
 *  events; the simulator prints them as its timeline. Each names the term it happened in. */
export type Observation =
  | { type: 'became_follower'; term: number; leader: NodeId | null; cause: FollowerCause; reason: string }
  | { type: 'became_pre_candidate'; term: number; votersNeeded: number }
  | { type: 'became_candidate'; term: number; votersNeeded: number; transfer: boolean }
  | { type: 'became_leader'; term: number; votes: NodeId[] }
  | { type: 'term_changed'; term: number; from: number; cause: MessageType | 'campaign' }
  | {
      type: 'election_ended';
      term: number;
      preVote: boolean;
      outcome: 'won' | 'lost' | 'superseded';
      granted: number;
      rejected: number;
      needed: number;
    }
  | {
      type: 'vote_received';
      term: number;
      from: NodeId;
      preVote: boolean;
      granted: boolean;
      reason: VoteRejectReason | null;
    }
  | {
      type: 'vote_cast';
      term: number;
      candidate: NodeId;
      preVote: boolean;
      granted: boolean;
      reason: VoteRejectReason | null;
    }
  | { type: 'entries_appended'; term: number; fromIndex: number; toIndex: number; leader: boolean }
  | { type: 'entries_truncated'; term: number; fromIndex: number; toIndex: number }
  | {
      type: 'append_rejected';
      term: number;
      leader: NodeId;
      prevLogIndex: number;
      prevLogTerm: number;
      conflictIndex: number;
      conflictTerm: number;
    }
  | {
      type: 'follower_backtracked';
      term: number;
      peer: NodeId;
      rejectedIndex: number;
      conflictIndex: number;
      conflictTerm: number;
      nextIndex: number;
    }
  | { type: 'commit_advanced'; term: number; from: number; to: number }
  | { type: 'snapshot_created'; term: number; index: number; snapshotTerm: number }
  | { type: 'snapshot_sent'; term: number; peer: NodeId; index: number }
  | { type: 'snapshot_installed'; term: number; index: number; snapshotTerm: number; leader: NodeId }
  | { type: 'membership_changed'; term: number; index: number; change: ConfChange; conf: ConfState }
  | { type: 'learner_caught_up'; term: number; peer: NodeId; matchIndex: number }
  | { type: 'transfer_started'; term: number; target: NodeId }
  | { type: 'transfer_timeout_now_sent'; term: number; target: NodeId }
  | { type: 'transfer_aborted'; term: number; target: NodeId; reason: string }
  | { type: 'check_quorum_failed'; term: number; active: number; needed: number }
  | { type: 'read_index_ready'; term: number; requestId: string; index: number; lease: boolean }
  | { type: 'read_index_failed'; term: number; requestId: string; reason: string }
  | { type: 'message_rejected'; term: number; from: NodeId; messageType: string; reason: string };

export type ObservationType = Observation['type'];

export type ReadState =
  { requestId: string; index: number; error: null } | { requestId: string; index: -1; error: string };

/** The batch of work the core hands back. The runtime must, in this order:
 *  1. save `snapshot` (and, if `restoreStateMachine`, load its data into the state machine),
 *     append `entries` (replacing any stored entries at or after entries[0].index) and save
 *     `hardState`; if `mustSync`, fsync before going on;
 *  2. send `messages`;
 *  3. apply `committedEntries` in order, and serve `readStates` once applied reaches their index.
 *  Readys must be processed one at a time, in order. Two liberties are safe, and the node takes
 *  them: a leader's AppendEntries and InstallSnapshot may be sent before the fsync (thesis
 *  §10.2.1: anything they make committed shows only in a later Ready), and committed entries
 *  already on disk may be applied before this Ready's new entries are synced. */
export interface Ready {
  hardState: HardState | null;
  entries: Entry[];
  snapshot: Snapshot | null;
  restoreStateMachine: boolean;
  mustSync: boolean;
  messages: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
  observations: Observation[];
}

export type ProposeResult =
  | { ok: true; index: number; term: number }
  | { ok: false; reason: 'not_leader' | 'transfer_in_progress'; leader: NodeId | null };

export type ConfChangeResult =
  { ok: true; index: number; term: number } | { ok: false; reason: string; leader: NodeId | null };

/** What a node needs to start: its persisted state, or nothing for a brand-new member. */
export interface InitialState {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** Persisted entries after the snapshot, contiguous. */
  entries: Entry[];
  /** The membership to use when there is no snapshot yet (bootstrap). Config entries in the
   *  committed part of `entries` are applied on top. */
  bootstrapConf: ConfState;
}

export interface RaftConfig {
  id: NodeId;
  clusterId: string;
  /** Ticks a follower waits without hearing from a leader before campaigning; the actual timeout
   *  is randomized in [electionTick, 2*electionTick) (§5.2). */
  electionTick: number;
  /** Ticks between a leader's heartbeats; must be well below electionTick. */
  heartbeatTick: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Appends in flight per follower in the replicate state (pipelining window). */
  maxInflight: number;
  /** Entries per AppendEntries message. */
  maxEntriesPerAppend: number;
  /** Characters of entry data and context per AppendEntries (at least one entry is always sent),
   *  so a batch stays below the transport's message size limit. Unlimited when absent. */
  maxCharsPerAppend?: number;
  /** A learner is promotable once its match index is within this many entries of the leader's. */
  learnerCatchUpMargin: number;
  /** Hold a new commit index back until the next append or tick instead of sending followers an
   *  empty append for it at once (issue 14: one round trip per write fewer). Default false. */
  deferCommitNotify?: boolean;
  /** Uniform [0,1) generator, injected so the simulator can replay a run from its seed. */
  random: () => number;
}

/** A Ready that asks for nothing but what `over` sets: for code that writes state to a disk
 *  directly rather than from the core (the simulator's preloaded disks, storage tests). */
export function readyWith(over: Partial<Ready>): Ready {
  return {
    hardState: null,
    entries: [],
    snapshot: null,
    restoreStateMachine: false,
    mustSync: false,
    messages: [],
    committedEntries: [],
    readStates: [],
    observations: [],
    ...over,
  };
}

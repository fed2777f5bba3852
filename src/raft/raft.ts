// The Raft consensus core: a pure, deterministic state machine in the style of etcd-io/raft.
//
// It has no sockets, timers, clock, disk or randomness of its own. The runtime drives it with
//   tick()               - time passes (one logical tick)
//   step(message)        - a message arrived from a peer
//   propose(data, ctx)   - a client wants a command in the log
//   readIndex(id)        - a client wants a linearizable read
//   proposeConfChange(), transferLeadership(), compact()
// and collects the resulting work with ready(): what to persist, what to send, what to apply, and
// a stream of observations for the tracing layer. See types.ts for the Ready contract.
//
// Read it beside Figure 2 of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable
// Consensus Algorithm"): each rule is marked "Figure 2" with the paper's section. Extensions from
// Ongaro's thesis are marked "thesis §N": PreVote (§9.6), CheckQuorum and leader leases (§6.2,
// §6.4), leadership transfer (§3.10), single-server membership changes (§4.1) and ReadIndex (§6.4).
import { RaftLog } from './log.js';
import { Progress } from './progress.js';
import { majorityValue, quorumSize } from './quorum.js';
import type {
  FollowerCause,
  AppendEntries,
  AppendEntriesResponse,
  ConfChange,
  ConfChangeResult,
  ConfState,
  Entry,
  EntryType,
  HardState,
  InitialState,
  InstallSnapshot,
  InstallSnapshotResponse,
  Message,
  NodeId,
  Observation,
  ProposeResult,
  RaftConfig,
  ReadIndexRequest,
  ReadIndexResponse,
  ReadState,
  Ready,
  RequestVote,
  RequestVoteResponse,
  Role,
  Snapshot,
  VoteRejectReason,
} from './types.js';
import { messageProblem } from './validate.js';

type Campaign = 'pre' | 'real' | 'transfer';

interface PendingRead {
  requestId: string;
  from: NodeId;
  index: number;
  /** The confirmation round whose quorum acknowledgement makes this read safe. */
  seq: number;
}

/** Ticks of safety margin a lease read leaves for clock drift between nodes. */
const LEASE_MARGIN_TICKS = 2;

export class Raft {
  readonly id: NodeId;
  private readonly cfg: RaftConfig;

  // Figure 2, "Persistent state on all servers" (plus the log, in RaftLog).
  term = 0;
  votedFor: NodeId | null = null;
  readonly log: RaftLog;

  // Figure 2, "Volatile state on all servers".
  commitIndex = 0;
  /** Highest index handed to the runtime for applying (Figure 2 lastApplied). */
  lastApplied = 0;

  role: Role = 'follower';
  leader: NodeId | null = null;
  conf: ConfState;
  /** Memberships in effect from each index on, so a snapshot can record the one it covers. */
  private confHistory: { index: number; conf: ConfState }[] = [];

  // Figure 2, "Volatile state on leaders": nextIndex[] and matchIndex[] live in Progress.
  private progress = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** Ticks since this node started: the core's only notion of time, used for leases. */
  private now = 0;

  private leadTransferee: NodeId | null = null;
  /** A config entry at this index or below is not yet committed: no new change until it is. */
  private pendingConfIndex = 0;

  // ReadIndex (thesis §6.4): each broadcast is a numbered confirmation round.
  private seq = 0;
  private seqSentAt = new Map<number, number>();
  private pendingReads: PendingRead[] = [];
  private readsAwaitingCommit: { requestId: string; from: NodeId; lease: boolean }[] = [];
  private readRoundNeeded = false;

  // Work collected for the next Ready.
  private msgs: Message[] = [];
  private observations: Observation[] = [];
  private readStates: ReadState[] = [];
  private savedHardState: HardState;
  private snapshotToSave: Snapshot | null = null;
  private restoreStateMachine = false;
  private appendNeeded = false;
  private commitNotifyNeeded = false;
  /** A commit index followers have not been told yet, held back until the next append or tick
   *  (issue 14): telling them at once costs an extra AppendEntries round trip per write on every
   *  follower, and under load the next append carries it anyway. A follower learns it at most one
   *  tick late (it applies that much later; nothing waits on it: a leader answers its client on
   *  its own commit, and a follower's ReadIndex reply carries the commit index it needs). */
  private commitNotifyDeferred = false;
  /** Set by a tick while a commit index is held back: the next Ready sends it. */
  private commitNotifyDue = false;

  constructor(config: RaftConfig, initial: InitialState) {
    if (config.heartbeatTick >= config.electionTick) {
      throw new Error(`heartbeatTick (${config.heartbeatTick}) must be below electionTick (${config.electionTick})`);
    }
    this.cfg = config;
    this.id = config.id;
    this.log = new RaftLog(initial.snapshot, initial.entries);
    this.term = initial.hardState.term;
    this.votedFor = initial.hardState.votedFor;
    const base = initial.snapshot ? initial.snapshot.conf : initial.bootstrapConf;
    this.conf = cloneConf(base);
    this.confHistory = [{ index: this.log.snapshotIndex, conf: cloneConf(base) }];
    // The state machine restarts from the snapshot; committed entries after it are re-applied.
    this.commitIndex = this.log.snapshotIndex;
    this.lastApplied = this.log.snapshotIndex;
    this.savedHardState = { ...initial.hardState };
    const commit = Math.min(initial.hardState.commit, this.log.lastIndex());
    this.applyCommittedConfig(this.commitIndex, commit);
    this.commitIndex = Math.max(this.commitIndex, commit);
    this.resetRandomizedElectionTimeout();
  }

  // ===========================================================================================
  // Inputs
  // ===========================================================================================

  /** One logical clock tick. Followers and candidates count towards an election timeout; a
   *  leader counts towards its next heartbeat and its CheckQuorum round. */
  tick(): void {
    this.now++;
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    // Figure 2, Followers (§5.2): "If election timeout elapses without receiving AppendEntries
    // RPC from current leader or granting vote to candidate: convert to candidate".
    if (this.isVoter() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.cfg.preVote ? 'pre' : 'real');
    }
  }

  private tickLeader(): void {
    // A commit index held back since the last tick goes out now (with the next Ready).
    if (this.commitNotifyDeferred) this.commitNotifyDue = true;
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      // Thesis §6.2 (CheckQuorum): a leader that has not heard from a majority within an
      // election timeout steps down, so a partitioned leader stops claiming leadership.
      if (this.cfg.checkQuorum && !this.checkQuorumActive()) return;
      if (this.leadTransferee !== null) this.abortTransfer('timed out before the target caught up');
    }
    for (const pr of this.progress.values()) {
      if (pr.state === 'snapshot' && ++pr.snapshotTicks >= this.cfg.electionTick) pr.becomeProbe(); // lost: retry
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  /** Handles one message from a peer. Malformed or foreign messages are rejected and reported
   *  as `message_rejected` observations; this method never throws on bad input. Returns why the
   *  message was rejected, or null when it was processed. */
  step(m: Message): string | null {
    const problem = this.admissionProblem(m);
    if (problem) {
      this.reject(m, problem);
      return problem;
    }
    const rejectedBefore = this.rejections;
    this.dispatch(m);
    return this.rejections === rejectedBefore ? null : this.lastRejection;
  }

  private dispatch(m: Message): void {
    // Vote replies are matched to the election they answer by `candidateTerm`, not by the voter's
    // term: a lagging voter may grant a pre-vote, or refuse one, from an older term.
    if (m.type === 'RequestVoteResponse') {
      if (m.term > this.term && !m.granted)
        this.becomeFollower(m.term, null, 'higher_term', `voter ${m.from} is in term ${m.term}`, m.type);
      else this.handleVoteResponse(m);
      return;
    }

    // Figure 2, All Servers (§5.1): "If RPC request or response contains term T > currentTerm:
    // set currentTerm = T, convert to follower". Two refinements from the thesis:
    if (m.term > this.term) {
      if (
        m.type === 'RequestVote' &&
        !m.transfer &&
        this.heardFromLeaderRecently() &&
        (m.preVote || this.cfg.checkQuorum)
      ) {
        // Thesis §9.6 (PreVote) and §4.2.3 (with CheckQuorum, for real votes too): while we hear
        // from a live leader, a candidate's higher term must not disrupt it; a rejoining or
        // removed server would otherwise depose a healthy leader.
        this.send(this.voteResponse(m, false, 'leader_lease'));
        this.observe({
          type: 'vote_cast',
          term: this.term,
          candidate: m.from,
          preVote: m.preVote,
          granted: false,
          reason: 'leader_lease',
        });
        return;
      }
      if (m.type === 'RequestVote' && m.preVote) {
        // Thesis §9.6: a pre-vote request does not change anyone's term.
      } else {
        const leader = m.type === 'AppendEntries' || m.type === 'InstallSnapshot' ? m.from : null;
        this.becomeFollower(m.term, leader, 'higher_term', `saw term ${m.term} in ${m.type} from ${m.from}`, m.type);
      }
    } else if (m.term < this.term) {
      this.handleStaleTerm(m);
      return;
    }

    switch (m.type) {
      case 'RequestVote':
        return this.handleRequestVote(m);
      case 'AppendEntries':
        return this.handleAppendEntries(m);
      case 'AppendEntriesResponse':
        return this.handleAppendResponse(m);
      case 'InstallSnapshot':
        return this.handleInstallSnapshot(m);
      case 'InstallSnapshotResponse':
        return this.handleSnapshotResponse(m);
      case 'TimeoutNow':
        return this.handleTimeoutNow(m);
      case 'ReadIndex':
        return this.handleReadIndexRequest(m);
      case 'ReadIndexResponse':
        return this.handleReadIndexResponse(m);
    }
  }

  /** Appends a client command to the leader's log (§5.3). Returns where it landed, or why not. */
  propose(data: string, context = '', type: EntryType = 'normal'): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'not_leader', leader: this.leader };
    if (this.leadTransferee !== null) return { ok: false, reason: 'transfer_in_progress', leader: this.leader };
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.term, type, data, context };
    this.appendAsLeader([entry]);
    return { ok: true, index: entry.index, term: entry.term };
  }

  /** Thesis §4.1: one server at a time. New servers join as learners (non-voting) so they can
   *  catch up before they count towards a majority; `promote` makes a caught-up learner a voter. */
  proposeConfChange(change: ConfChange): ConfChangeResult {
    const refused = this.checkConfChange(change);
    if (refused) return refused;
    const entry: Entry = {
      index: this.log.lastIndex() + 1,
      term: this.term,
      type: 'config',
      data: JSON.stringify({ type: change.type, node: change.node }),
      context: '',
    };
    this.pendingConfIndex = entry.index;
    this.appendAsLeader([entry]);
    return { ok: true, index: entry.index, term: entry.term };
  }

  /** Why `change` would be refused now, or null: callers that must do something before proposing
   *  it (record the new server's address) ask first, so a refused change leaves no trace. */
  checkConfChange(change: ConfChange): Extract<ConfChangeResult, { ok: false }> | null {
    if (this.role !== 'leader') return { ok: false, reason: 'not_leader', leader: this.leader };
    if (this.leadTransferee !== null) return { ok: false, reason: 'transfer_in_progress', leader: this.leader };
    if (this.pendingConfIndex > this.commitIndex) {
      return {
        ok: false,
        reason: `membership change at index ${this.pendingConfIndex} is not committed yet: one change at a time`,
        leader: this.id,
      };
    }
    // The fix to the single-server change bug (Ongaro, raft-dev 2015): a new leader must commit
    // an entry of its own term before it changes the membership.
    if (this.log.term(this.commitIndex) !== this.term) {
      return {
        ok: false,
        reason: 'this leader has not committed an entry in its term yet; retry shortly',
        leader: this.id,
      };
    }
    const { voters, learners } = this.conf;
    const isVoter = voters.includes(change.node);
    const isLearner = learners.includes(change.node);
    switch (change.type) {
      case 'add_learner':
        if (isVoter || isLearner) return { ok: false, reason: `${change.node} is already a member`, leader: this.id };
        break;
      case 'promote': {
        if (!isLearner) return { ok: false, reason: `${change.node} is not a learner`, leader: this.id };
        const pr = this.progress.get(change.node);
        if (!pr || !this.isCaughtUp(pr)) {
          return {
            ok: false,
            reason: `${change.node} has not caught up (match ${pr?.match ?? 0} of ${this.log.lastIndex()})`,
            leader: this.id,
          };
        }
        break;
      }
      case 'remove':
        if (!isVoter && !isLearner) return { ok: false, reason: `${change.node} is not a member`, leader: this.id };
        if (isVoter && voters.length === 1)
          return { ok: false, reason: 'cannot remove the last voter', leader: this.id };
        break;
      default:
        return {
          ok: false,
          reason: `unknown change type ${String((change as { type?: unknown }).type)}`,
          leader: this.id,
        };
    }
    return null;
  }

  /** Thesis §3.10: bring `target` up to date, then tell it to start an election at once. */
  transferLeadership(target: NodeId): { ok: boolean; reason?: string } {
    if (this.role !== 'leader') return { ok: false, reason: 'not the leader' };
    if (target === this.id) return { ok: false, reason: 'already the leader' };
    if (!this.conf.voters.includes(target)) return { ok: false, reason: `${target} is not a voter` };
    if (this.leadTransferee === target) return { ok: true };
    if (this.leadTransferee !== null) this.abortTransfer(`superseded by a transfer to ${target}`);
    this.leadTransferee = target;
    this.electionElapsed = 0; // the transfer must finish within an election timeout
    this.observe({ type: 'transfer_started', term: this.term, target });
    const pr = this.progress.get(target)!;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(target);
    else this.sendAppend(pr);
    return { ok: true };
  }

  /** Thesis §6.4: a linearizable read. The answer arrives as a ReadState: once the state
   *  machine has applied up to its index, reading it is linearizable. With `lease`, a leader
   *  whose lease holds (CheckQuorum on) answers at once without a round of heartbeats. */
  readIndex(requestId: string, lease = false): void {
    if (this.role === 'leader') {
      this.leaderRead(requestId, this.id, lease);
    } else if (this.leader !== null) {
      this.send<ReadIndexRequest>({ type: 'ReadIndex', to: this.leader, term: this.term, requestId });
    } else {
      this.readStates.push({ requestId, index: -1, error: 'no_leader' });
      this.observe({ type: 'read_index_failed', term: this.term, requestId, reason: 'no_leader' });
    }
  }

  /** §7: the runtime has a snapshot of the state machine as of `index` (≤ applied): the log up
   *  to there can be discarded. */
  compact(index: number, data: string): { ok: boolean; reason?: string } {
    if (index > this.lastApplied)
      return { ok: false, reason: `index ${index} is not applied yet (applied ${this.lastApplied})` };
    if (index <= this.log.snapshotIndex)
      return { ok: false, reason: `already compacted up to ${this.log.snapshotIndex}` };
    const term = this.log.term(index)!;
    const snapshot: Snapshot = { index, term, conf: cloneConf(this.confAt(index)), data };
    this.log.compactTo(snapshot);
    this.confHistory = this.confHistory.filter((_c, i, all) => i === all.length - 1 || all[i + 1].index > index);
    this.snapshotToSave = snapshot;
    this.observe({ type: 'snapshot_created', term: this.term, index, snapshotTerm: term });
    return { ok: true };
  }

  // ===========================================================================================
  // Output
  // ===========================================================================================

  hasReady(): boolean {
    return (
      this.msgs.length > 0 ||
      this.observations.length > 0 ||
      this.readStates.length > 0 ||
      this.appendNeeded ||
      this.commitNotifyNeeded ||
      this.commitNotifyDue ||
      this.readRoundNeeded ||
      this.snapshotToSave !== null ||
      this.log.hasUnpersisted() ||
      this.commitIndex > this.lastApplied ||
      this.hardStateChanged()
    );
  }

  /** Collects everything the runtime must do now (see the Ready contract in types.ts). */
  ready(): Ready {
    if (this.role === 'leader') {
      // Proposals and commits since the last Ready go out in one append per follower, so many
      // proposals share one message and one fsync (batching).
      const notifyNow =
        (this.commitNotifyNeeded && !this.cfg.deferCommitNotify) || (this.commitNotifyDeferred && this.commitNotifyDue);
      if (this.appendNeeded || notifyNow) {
        // Followers with nothing new still get an empty append when it carries a commit index.
        const notify = this.commitNotifyNeeded || this.commitNotifyDeferred;
        for (const pr of this.progress.values()) this.sendAppend(pr, notify);
        this.commitNotifyDeferred = false;
      } else if (this.commitNotifyNeeded) this.commitNotifyDeferred = true;
      if (this.readRoundNeeded) this.broadcastHeartbeat();
    } else this.commitNotifyDeferred = false;
    this.commitNotifyDue = false;
    this.appendNeeded = false;
    this.commitNotifyNeeded = false;
    this.readRoundNeeded = false;

    const hs: HardState = { term: this.term, votedFor: this.votedFor, commit: this.commitIndex };
    const hardStateChanged = this.hardStateChanged();
    // A vote or a term must be durable before any message depends on it (§5.2: "each server will
    // vote for at most one candidate in a given term" survives a crash only if the vote is on
    // disk). The commit index alone may be lost: it is learned again from the leader.
    const voteChanged = hs.term !== this.savedHardState.term || hs.votedFor !== this.savedHardState.votedFor;
    const entries = this.log.takeUnpersisted();
    const snapshot = this.snapshotToSave;
    const committedEntries =
      this.commitIndex > this.lastApplied
        ? this.log.slice(Math.max(this.lastApplied + 1, this.log.firstIndex()), this.commitIndex)
        : [];
    this.lastApplied = Math.max(this.lastApplied, this.commitIndex);

    const rd: Ready = {
      hardState: hardStateChanged ? hs : null,
      entries,
      snapshot,
      restoreStateMachine: this.restoreStateMachine,
      mustSync: voteChanged || entries.length > 0 || snapshot !== null,
      messages: this.msgs,
      committedEntries,
      readStates: this.readStates,
      observations: this.observations,
    };
    this.savedHardState = hs;
    this.snapshotToSave = null;
    this.restoreStateMachine = false;
    this.msgs = [];
    this.readStates = [];
    this.observations = [];
    return rd;
  }

  /** A snapshot of what this node believes, for status pages and tests. */
  status() {
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      votedFor: this.votedFor,
      leader: this.leader,
      commitIndex: this.commitIndex,
      lastApplied: this.lastApplied,
      lastLogIndex: this.log.lastIndex(),
      lastLogTerm: this.log.lastTerm(),
      snapshotIndex: this.log.snapshotIndex,
      conf: cloneConf(this.conf),
      transferringTo: this.leadTransferee,
      progress:
        this.role === 'leader'
          ? Object.fromEntries(
              [...this.progress.values()].map((p) => [
                p.id,
                { match: p.match, next: p.next, state: p.state, active: p.recentActive },
              ]),
            )
          : {},
    };
  }

  /** True when this leader may serve a lease read now (thesis §6.4.1). */
  leaseValid(): boolean {
    if (this.role !== 'leader' || !this.cfg.checkQuorum) return false;
    const sentAt = this.seqSentAt.get(this.quorumAckedSeq());
    return sentAt !== undefined && this.now < sentAt + this.cfg.electionTick - LEASE_MARGIN_TICKS;
  }

  isVoter(): boolean {
    return this.conf.voters.includes(this.id);
  }

  // ===========================================================================================
  // Role changes
  // ===========================================================================================

  private becomeFollower(
    term: number,
    leader: NodeId | null,
    why: FollowerCause,
    reason: string,
    cause: Message['type'] | 'campaign' = 'campaign',
  ): void {
    const wasLeader = this.role === 'leader';
    if (this.role === 'pre_candidate' || this.role === 'candidate')
      this.endElection(this.role === 'pre_candidate', 'superseded');
    if (term > this.term) {
      this.observe({ type: 'term_changed', term, from: this.term, cause });
      this.term = term;
      this.votedFor = null;
    }
    if (wasLeader && this.leadTransferee !== null && leader === this.leadTransferee) {
      why = 'transferred';
      reason = `leadership transferred to ${leader}`;
    }
    this.role = 'follower';
    this.leader = leader;
    this.resetTimers();
    this.leadTransferee = null;
    if (wasLeader) this.dropLeaderState('stepped_down');
    this.observe({ type: 'became_follower', term: this.term, leader, cause: why, reason });
  }

  /** Starts an election (§5.2) or, with PreVote, first asks whether one could be won (thesis §9.6). */
  private campaign(kind: Campaign): void {
    if (!this.isVoter()) return;
    const needed = quorumSize(this.conf.voters.length);
    this.votes = new Map([[this.id, true]]);
    this.leader = null;
    this.resetTimers();
    let electionTerm: number;
    if (kind === 'pre') {
      this.role = 'pre_candidate';
      electionTerm = this.term + 1;
      this.observe({ type: 'became_pre_candidate', term: this.term, votersNeeded: needed });
    } else {
      // Figure 2, Candidates (§5.2): "On conversion to candidate, start election: increment
      // currentTerm, vote for self, reset election timer, send RequestVote RPCs to all other servers".
      this.observe({ type: 'term_changed', term: this.term + 1, from: this.term, cause: 'campaign' });
      this.term++;
      this.votedFor = this.id;
      this.role = 'candidate';
      electionTerm = this.term;
      this.observe({ type: 'became_candidate', term: this.term, votersNeeded: needed, transfer: kind === 'transfer' });
    }
    if (this.votes.size >= needed) return this.winVote();
    for (const voter of this.conf.voters) {
      if (voter === this.id) continue;
      this.send<RequestVote>({
        type: 'RequestVote',
        to: voter,
        term: electionTerm,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
        preVote: kind === 'pre',
        transfer: kind === 'transfer',
      });
    }
  }

  private winVote(): void {
    const preVote = this.role === 'pre_candidate';
    this.endElection(preVote, 'won');
    if (preVote) this.campaign('real');
    else this.becomeLeader();
  }

  private becomeLeader(): void {
    const votes = [...this.votes.entries()].filter(([, g]) => g).map(([id]) => id);
    this.role = 'leader';
    this.leader = this.id;
    this.resetTimers();
    this.leadTransferee = null;
    this.progress = new Map();
    for (const id of this.members()) {
      // Figure 2, Leaders: "nextIndex initialized to leader last log index + 1, matchIndex to 0".
      if (id !== this.id) this.progress.set(id, this.newProgress(id));
    }
    // Any config entry in our log that is not committed yet counts as pending.
    this.pendingConfIndex = this.log.lastIndex();
    this.observe({ type: 'became_leader', term: this.term, votes });
    // §8: "each leader commit[s] a blank no-op entry into the log at the start of its term", so
    // it learns which entries are committed (and can serve reads, thesis §6.4).
    this.appendAsLeader([{ index: this.log.lastIndex() + 1, term: this.term, type: 'noop', data: '', context: '' }]);
    this.broadcastHeartbeat(); // announce leadership at once
  }

  private endElection(preVote: boolean, outcome: 'won' | 'lost' | 'superseded'): void {
    let granted = 0;
    let rejected = 0;
    for (const g of this.votes.values()) {
      if (g) granted++;
      else rejected++;
    }
    this.observe({
      type: 'election_ended',
      term: this.term,
      preVote,
      outcome,
      granted,
      rejected,
      needed: quorumSize(this.conf.voters.length),
    });
  }

  private dropLeaderState(reason: string): void {
    for (const r of this.pendingReads) this.failRead(r.requestId, r.from, reason);
    for (const r of this.readsAwaitingCommit) this.failRead(r.requestId, r.from, reason);
    this.pendingReads = [];
    this.readsAwaitingCommit = [];
    this.progress = new Map();
  }

  private resetTimers(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
  }

  private resetRandomizedElectionTimeout(): void {
    // §5.2: "election timeouts are chosen randomly from a fixed interval" so split votes are rare.
    const t = this.cfg.electionTick;
    this.randomizedElectionTimeout = t + Math.floor(this.cfg.random() * t);
  }

  /** Thesis §6.2: true if a majority (counting ourselves) was heard from since the last check. */
  private checkQuorumActive(): boolean {
    let active = 0;
    for (const v of this.conf.voters) {
      if (v === this.id || this.progress.get(v)?.recentActive) active++;
    }
    for (const pr of this.progress.values()) pr.recentActive = false;
    const needed = quorumSize(this.conf.voters.length);
    if (active >= needed) return true;
    this.observe({ type: 'check_quorum_failed', term: this.term, active, needed });
    this.becomeFollower(
      this.term,
      null,
      'check_quorum',
      `CheckQuorum: heard from ${active} of ${needed} voters needed`,
    );
    return false;
  }

  /** Whether we heard from a leader less than an election timeout ago (thesis §4.2.3, §9.6). */
  private heardFromLeaderRecently(): boolean {
    return this.leader !== null && this.electionElapsed < this.cfg.electionTick;
  }

  // ===========================================================================================
  // Elections: RequestVote (§5.2, §5.4.1) and PreVote (thesis §9.6)
  // ===========================================================================================

  private handleRequestVote(m: RequestVote): void {
    // Here m.term >= currentTerm (stale requests were answered in handleStaleTerm).
    // Figure 2, RequestVote receiver rule 2: "If votedFor is null or candidateId, and candidate's
    // log is at least as up-to-date as receiver's log, grant vote" (§5.2, §5.4).
    const canVote =
      this.votedFor === m.from ||
      (this.votedFor === null && this.leader === null) ||
      // A pre-vote for a future term is hypothetical: our vote in this term is not spent.
      (m.preVote && m.term > this.term);
    let reason: VoteRejectReason | null = null;
    if (!canVote) reason = this.votedFor === null ? 'has_leader' : 'already_voted';
    else if (!this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) reason = 'log_not_up_to_date';
    const granted = reason === null;
    if (granted && !m.preVote) {
      this.votedFor = m.from;
      // Figure 2, Followers: granting a vote resets the election timer.
      this.electionElapsed = 0;
    }
    this.observe({ type: 'vote_cast', term: this.term, candidate: m.from, preVote: m.preVote, granted, reason });
    this.send(this.voteResponse(m, granted, reason));
  }

  private voteResponse(
    m: RequestVote,
    granted: boolean,
    reason: VoteRejectReason | null,
  ): Omit<RequestVoteResponse, 'clusterId' | 'from'> {
    return {
      type: 'RequestVoteResponse',
      to: m.from,
      term: this.term,
      granted,
      preVote: m.preVote,
      candidateTerm: m.term,
      reason,
    };
  }

  private handleVoteResponse(m: RequestVoteResponse): void {
    const preVote = this.role === 'pre_candidate';
    if (!preVote && this.role !== 'candidate') return; // the election is over
    const electionTerm = preVote ? this.term + 1 : this.term;
    if (m.preVote !== preVote || m.candidateTerm !== electionTerm) return; // a reply to an older election
    if (!this.conf.voters.includes(m.from) || this.votes.has(m.from)) return; // duplicate or non-voter
    this.votes.set(m.from, m.granted);
    this.observe({
      type: 'vote_received',
      term: this.term,
      from: m.from,
      preVote,
      granted: m.granted,
      reason: m.reason,
    });
    const needed = quorumSize(this.conf.voters.length);
    let granted = 0;
    for (const g of this.votes.values()) if (g) granted++;
    const rejected = this.votes.size - granted;
    // Figure 2, Candidates: "If votes received from majority of servers: become leader".
    if (granted >= needed) this.winVote();
    else if (rejected > this.conf.voters.length - needed) {
      // A majority said no: this election cannot be won. Wait for a timeout and try again.
      this.endElection(preVote, 'lost');
      this.role = 'follower';
      this.resetTimers();
      this.observe({
        type: 'became_follower',
        term: this.term,
        leader: null,
        cause: 'election_lost',
        reason: `${preVote ? 'pre-vote' : 'election'} lost`,
      });
    }
  }

  private handleTimeoutNow(m: Message): void {
    // Thesis §3.10: the leader brought us up to date and asks us to start an election now,
    // skipping PreVote; voters will disregard their lease for it.
    if (!this.isVoter()) return;
    this.observe({
      type: 'became_follower',
      term: this.term,
      leader: null,
      cause: 'timeout_now',
      reason: `TimeoutNow from ${m.from}: leadership handed over`,
    });
    this.campaign('transfer');
  }

  // ===========================================================================================
  // Replication: AppendEntries (§5.3), commit (§5.3, §5.4.2)
  // ===========================================================================================

  private handleAppendEntries(m: AppendEntries): void {
    if (this.role === 'leader') {
      // Two leaders in one term would break election safety: never trust such a message.
      this.reject(m, `AppendEntries from ${m.from} in term ${m.term}, but this node leads term ${this.term}`);
      return;
    }
    // Figure 2, Candidates (§5.2): "If AppendEntries RPC received from new leader: convert to follower".
    if (this.role !== 'follower')
      this.becomeFollower(m.term, m.from, 'leader_seen', `AppendEntries from leader ${m.from}`, m.type);
    this.leader = m.from;
    this.electionElapsed = 0;

    const reply = (fields: Partial<AppendEntriesResponse>) =>
      this.send<AppendEntriesResponse>({
        type: 'AppendEntriesResponse',
        to: m.from,
        term: this.term,
        success: true,
        matchIndex: 0,
        rejectedIndex: 0,
        conflictIndex: 0,
        conflictTerm: 0,
        lastLogIndex: this.log.lastIndex(),
        seq: m.seq,
        heartbeat: m.heartbeat,
        ...fields,
      });

    // Entries at or below our commit index are committed, hence identical on every future
    // leader (§5.4.3): no need to compare them. Tell the leader how far we are.
    if (m.prevLogIndex < this.commitIndex) {
      reply({ matchIndex: this.commitIndex });
      return;
    }

    // Figure 2, AppendEntries receiver rule 2: "Reply false if log doesn't contain an entry at
    // prevLogIndex whose term matches prevLogTerm" (§5.3).
    if (!this.log.matchTerm(m.prevLogIndex, m.prevLogTerm)) {
      // §5.3 fast backtracking: give the leader the conflicting term and the first index we
      // store for it, so it can skip a whole term per round trip instead of one entry.
      let conflictIndex: number;
      let conflictTerm: number;
      if (m.prevLogIndex > this.log.lastIndex()) {
        conflictIndex = this.log.lastIndex() + 1;
        conflictTerm = 0;
      } else {
        conflictTerm = this.log.term(m.prevLogIndex)!;
        conflictIndex = this.log.firstIndexOfTerm(m.prevLogIndex, this.commitIndex);
      }
      this.observe({
        type: 'append_rejected',
        term: this.term,
        leader: m.from,
        prevLogIndex: m.prevLogIndex,
        prevLogTerm: m.prevLogTerm,
        conflictIndex,
        conflictTerm,
      });
      reply({ success: false, rejectedIndex: m.prevLogIndex, conflictIndex, conflictTerm });
      return;
    }

    // Figure 2, AppendEntries receiver rules 3 and 4: "If an existing entry conflicts with a new
    // one (same index but different terms), delete the existing entry and all that follow it.
    // Append any new entries not already in the log."
    let firstNew = m.entries.length;
    for (let i = 0; i < m.entries.length; i++) {
      const existing = this.log.term(m.entries[i].index);
      if (existing === m.entries[i].term) continue;
      if (existing !== undefined) {
        if (m.entries[i].index <= this.commitIndex) {
          this.reject(m, `entry ${m.entries[i].index} conflicts with a committed entry`);
          return;
        }
        const last = this.log.lastIndex();
        this.log.truncateFrom(m.entries[i].index);
        this.observe({ type: 'entries_truncated', term: this.term, fromIndex: m.entries[i].index, toIndex: last });
      }
      firstNew = i;
      break;
    }
    if (firstNew < m.entries.length) {
      const fresh = m.entries.slice(firstNew);
      this.log.append(fresh);
      this.observe({
        type: 'entries_appended',
        term: this.term,
        fromIndex: fresh[0].index,
        toIndex: fresh[fresh.length - 1].index,
        leader: false,
      });
    }
    const lastNew = m.prevLogIndex + m.entries.length;
    // Figure 2, AppendEntries receiver rule 5: "If leaderCommit > commitIndex, set commitIndex =
    // min(leaderCommit, index of last new entry)".
    if (m.leaderCommit > this.commitIndex) this.commitTo(Math.min(m.leaderCommit, lastNew));
    reply({ matchIndex: lastNew });
  }

  private handleAppendResponse(m: AppendEntriesResponse): void {
    const pr = this.leaderProgress(m);
    if (!pr) return;
    pr.recentActive = true;
    pr.ackedSeq = Math.max(pr.ackedSeq, m.seq);

    if (!m.success && m.heartbeat && m.rejectedIndex > 0 && m.rejectedIndex <= pr.match && m.seq > pr.matchLostSeq) {
      // A heartbeat is anchored at the match index, which the follower confirmed in this term; an
      // honest follower never rejects it, since it only drops entries that conflict with ours.
      // So the follower lost entries it had acknowledged (a disk that lied about fsync). Its
      // rejections would all look stale (they are at or below match) and it would stay behind
      // for good: forget the match and backtrack from its hints below. Only a heartbeat is
      // trusted for this: a rejected pipelined append at or below match is merely outdated.
      // Lowering match is safe: commit never moves back, and a lower match only delays commits.
      pr.forgetMatch(m.rejectedIndex, this.seq);
    }
    let probed = false;
    if (!m.success) {
      // Stale rejections (to appends we have since superseded) are ignored.
      const stale = pr.state === 'replicate' ? m.rejectedIndex <= pr.match : m.rejectedIndex !== pr.next - 1;
      if (!stale && m.rejectedIndex > pr.match) {
        // Figure 2, Leaders (§5.3): "If AppendEntries fails because of log inconsistency:
        // decrement nextIndex and retry", sped up with the follower's hints.
        let next = m.conflictIndex;
        if (m.conflictTerm > 0) {
          const last = this.log.lastIndexOfTerm(m.conflictTerm, m.rejectedIndex);
          if (last > 0) next = last + 1;
        }
        next = Math.max(pr.match + 1, Math.min(next, m.rejectedIndex));
        pr.becomeProbe();
        pr.next = next;
        this.observe({
          type: 'follower_backtracked',
          term: this.term,
          peer: pr.id,
          rejectedIndex: m.rejectedIndex,
          conflictIndex: m.conflictIndex,
          conflictTerm: m.conflictTerm,
          nextIndex: next,
        });
        this.sendAppend(pr);
        probed = true;
      }
    } else {
      if (m.matchIndex > this.log.lastIndex()) {
        this.reject(m, `claims to match up to ${m.matchIndex}, beyond our last index ${this.log.lastIndex()}`);
        return;
      }
      this.onFollowerProgress(pr, m.matchIndex);
    }
    // A heartbeat reply allows the next append, unless its rejection just sent one (a second would
    // duplicate that probe).
    if (m.heartbeat && !probed) {
      pr.onHeartbeatReply(this.now, 2 * this.cfg.heartbeatTick);
      if (pr.match < this.log.lastIndex()) this.sendAppend(pr);
    }
    this.releaseReads();
  }

  /** A follower confirmed its log matches ours up to `matchIndex`. */
  private onFollowerProgress(pr: Progress, matchIndex: number): void {
    const wasPaused = pr.isPaused();
    if (pr.maybeUpdate(matchIndex)) {
      // Figure 2, Leaders: "If successful: update nextIndex and matchIndex for follower".
      if (pr.state === 'probe') pr.becomeReplicate();
      else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeReplicate();
      if (this.maybeCommit()) this.commitNotifyNeeded = true;
      if (this.conf.learners.includes(pr.id) && !pr.caughtUpReported && this.isCaughtUp(pr)) {
        pr.caughtUpReported = true;
        this.observe({ type: 'learner_caught_up', term: this.term, peer: pr.id, matchIndex: pr.match });
      }
      if (pr.id === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(pr.id);
    }
    if (wasPaused || pr.next <= this.log.lastIndex()) this.sendAppend(pr);
  }

  /** Figure 2, Leaders (§5.3, §5.4.2): "If there exists an N such that N > commitIndex, a
   *  majority of matchIndex[i] ≥ N, and log[N].term == currentTerm: set commitIndex = N".
   *  The term check is what Figure 8 is about: an old-term entry is never committed by counting
   *  replicas, only indirectly by committing a current-term entry after it. */
  private maybeCommit(): boolean {
    const matches = this.conf.voters.map((v) =>
      v === this.id ? this.log.lastIndex() : (this.progress.get(v)?.match ?? 0),
    );
    const n = majorityValue(matches);
    if (n > this.commitIndex && this.log.term(n) === this.term) {
      this.commitTo(n);
      return true;
    }
    return false;
  }

  private commitTo(index: number): void {
    if (index <= this.commitIndex) return;
    const from = this.commitIndex;
    this.commitIndex = index;
    this.observe({ type: 'commit_advanced', term: this.term, from, to: index });
    this.applyCommittedConfig(from, index);
    if (this.role === 'leader') {
      if (this.readsAwaitingCommit.length && this.log.term(this.commitIndex) === this.term) {
        const waiting = this.readsAwaitingCommit;
        this.readsAwaitingCommit = [];
        for (const r of waiting) this.leaderRead(r.requestId, r.from, r.lease);
      }
    }
  }

  private appendAsLeader(entries: Entry[]): void {
    this.log.append(entries);
    this.observe({
      type: 'entries_appended',
      term: this.term,
      fromIndex: entries[0].index,
      toIndex: entries[entries.length - 1].index,
      leader: true,
    });
    this.appendNeeded = true;
    // A one-voter cluster commits as soon as the leader has the entry.
    this.maybeCommit();
  }

  /** Sends the entries a follower is missing (or a snapshot, if they are compacted away). With
   *  `evenIfEmpty`, an empty append still goes out to carry a new commit index. */
  private sendAppend(pr: Progress, evenIfEmpty = false): void {
    if (pr.isPaused()) return;
    const prevLogIndex = pr.next - 1;
    const prevLogTerm = this.log.term(prevLogIndex);
    if (prevLogTerm === undefined) {
      this.sendSnapshot(pr);
      return;
    }
    const entries =
      pr.next <= this.log.lastIndex()
        ? this.log.slice(pr.next, this.log.lastIndex(), this.cfg.maxEntriesPerAppend, this.cfg.maxCharsPerAppend)
        : [];
    // In probe state an empty append still has a job when the follower is behind: it is the probe
    // whose rejection tells us where its log ends (a new member in an idle cluster needs it).
    const probe = pr.state === 'probe' && pr.match < this.log.lastIndex();
    if (entries.length === 0 && !evenIfEmpty && !probe) return;
    this.send<AppendEntries>({
      type: 'AppendEntries',
      to: pr.id,
      term: this.term,
      prevLogIndex,
      prevLogTerm,
      entries,
      leaderCommit: this.commitIndex,
      seq: this.seq,
      heartbeat: false,
    });
    if (entries.length) pr.sentEntries(entries[entries.length - 1].index, this.now);
    else pr.sentEntries(prevLogIndex, this.now);
  }

  /** A heartbeat is an AppendEntries with no entries (§5.2). It is anchored at the follower's
   *  match index, which is known to agree, so its only effects are: reset the follower's election
   *  timer, carry the commit index as far as the follower provably has the log, and confirm our
   *  leadership for a numbered round (ReadIndex). */
  private broadcastHeartbeat(): void {
    this.seq++;
    this.seqSentAt.set(this.seq, this.now);
    this.seqSentAt.delete(this.seq - 4 * this.cfg.electionTick);
    for (const pr of this.progress.values()) {
      const anchor = this.log.term(pr.match) === undefined ? 0 : pr.match;
      this.send<AppendEntries>({
        type: 'AppendEntries',
        to: pr.id,
        term: this.term,
        prevLogIndex: anchor,
        prevLogTerm: anchor === 0 ? 0 : this.log.term(anchor)!,
        entries: [],
        leaderCommit: Math.min(this.commitIndex, anchor),
        seq: this.seq,
        heartbeat: true,
      });
    }
    if (this.conf.voters.length === 1) this.releaseReads();
  }

  // ===========================================================================================
  // Snapshots (§7)
  // ===========================================================================================

  private sendSnapshot(pr: Progress): void {
    const snapshot = this.log.snapshot;
    if (!snapshot) return;
    this.send<InstallSnapshot>({ type: 'InstallSnapshot', to: pr.id, term: this.term, snapshot, seq: this.seq });
    pr.becomeSnapshot(snapshot.index);
    this.observe({ type: 'snapshot_sent', term: this.term, peer: pr.id, index: snapshot.index });
  }

  private handleInstallSnapshot(m: InstallSnapshot): void {
    if (this.role === 'leader') {
      this.reject(m, `InstallSnapshot from ${m.from} in term ${m.term}, but this node leads term ${this.term}`);
      return;
    }
    if (this.role !== 'follower')
      this.becomeFollower(m.term, m.from, 'leader_seen', `InstallSnapshot from leader ${m.from}`, m.type);
    this.leader = m.from;
    this.electionElapsed = 0;
    const s = m.snapshot;
    let matchIndex: number;
    if (s.index <= this.commitIndex) {
      matchIndex = this.commitIndex; // we already have all of it
    } else if (this.log.matchTerm(s.index, s.term)) {
      // §7: "If existing log entry has same index and term as snapshot's last included entry,
      // retain log entries following it and reply".
      this.commitTo(s.index);
      matchIndex = s.index;
    } else {
      // §7: "Discard the entire log; reset state machine using snapshot contents".
      this.log.restore(s);
      this.commitIndex = s.index;
      this.lastApplied = s.index;
      this.conf = cloneConf(s.conf);
      this.confHistory = [{ index: s.index, conf: cloneConf(s.conf) }];
      this.snapshotToSave = s;
      this.restoreStateMachine = true;
      this.observe({
        type: 'snapshot_installed',
        term: this.term,
        index: s.index,
        snapshotTerm: s.term,
        leader: m.from,
      });
      matchIndex = s.index;
    }
    this.send<InstallSnapshotResponse>({
      type: 'InstallSnapshotResponse',
      to: m.from,
      term: this.term,
      matchIndex,
      seq: m.seq,
    });
  }

  private handleSnapshotResponse(m: InstallSnapshotResponse): void {
    const pr = this.leaderProgress(m);
    if (!pr) return;
    pr.recentActive = true;
    pr.ackedSeq = Math.max(pr.ackedSeq, m.seq);
    if (m.matchIndex > this.log.lastIndex()) {
      this.reject(m, `claims to match up to ${m.matchIndex}, beyond our last index ${this.log.lastIndex()}`);
      return;
    }
    if (pr.state === 'snapshot' && m.matchIndex < pr.pendingSnapshot) pr.becomeProbe();
    this.onFollowerProgress(pr, m.matchIndex);
    this.releaseReads();
  }

  // ===========================================================================================
  // Membership (thesis §4.1)
  // ===========================================================================================

  /** Config entries take effect when committed (as in etcd-io/raft), one at a time. */
  private applyCommittedConfig(from: number, to: number): void {
    for (let i = Math.max(from + 1, this.log.firstIndex()); i <= to; i++) {
      const e = this.log.entry(i)!;
      if (e.type === 'config') this.applyConfChange(e);
    }
  }

  private applyConfChange(e: Entry): void {
    const change = parseConfChange(e.data);
    if (!change) {
      this.observe({
        type: 'message_rejected',
        term: this.term,
        from: this.id,
        messageType: 'config',
        reason: `unreadable config entry ${e.index}`,
      });
      return;
    }
    const voters = this.conf.voters.filter((v) => v !== change.node);
    const learners = this.conf.learners.filter((v) => v !== change.node);
    if (change.type === 'add_learner') learners.push(change.node);
    else if (change.type === 'promote') voters.push(change.node);
    this.conf = { voters, learners };
    this.confHistory.push({ index: e.index, conf: cloneConf(this.conf) });
    this.observe({ type: 'membership_changed', term: this.term, index: e.index, change, conf: cloneConf(this.conf) });

    if (this.role !== 'leader') return;
    if (change.type === 'add_learner' && change.node !== this.id)
      this.progress.set(change.node, this.newProgress(change.node));
    if (change.type === 'remove') {
      this.progress.delete(change.node);
      if (change.node === this.id) {
        this.becomeFollower(this.term, null, 'removed', 'removed from the cluster');
        return;
      }
      if (change.node === this.leadTransferee) this.abortTransfer('target was removed');
    }
    // The majority changed: the commit index may move, and reads may be confirmed.
    if (this.maybeCommit()) this.commitNotifyNeeded = true;
    this.releaseReads();
  }

  private confAt(index: number): ConfState {
    let conf = this.confHistory[0].conf;
    for (const c of this.confHistory) if (c.index <= index) conf = c.conf;
    return conf;
  }

  private members(): NodeId[] {
    return [...this.conf.voters, ...this.conf.learners];
  }

  private newProgress(id: NodeId): Progress {
    const pr = new Progress(id, this.log.lastIndex() + 1, this.cfg.maxInflight);
    pr.recentActive = true; // give every peer one full CheckQuorum round
    return pr;
  }

  private isCaughtUp(pr: Progress): boolean {
    return pr.match + this.cfg.learnerCatchUpMargin >= this.log.lastIndex();
  }

  // ===========================================================================================
  // Leadership transfer (thesis §3.10)
  // ===========================================================================================

  private sendTimeoutNow(target: NodeId): void {
    this.send({ type: 'TimeoutNow', to: target, term: this.term });
    this.observe({ type: 'transfer_timeout_now_sent', term: this.term, target });
  }

  private abortTransfer(reason: string): void {
    if (this.leadTransferee === null) return;
    this.observe({ type: 'transfer_aborted', term: this.term, target: this.leadTransferee, reason });
    this.leadTransferee = null;
  }

  // ===========================================================================================
  // Reads (thesis §6.4)
  // ===========================================================================================

  private leaderRead(requestId: string, from: NodeId, lease: boolean): void {
    // Thesis §6.4 step 1: until the leader has committed an entry of its own term (its no-op), it
    // does not know the latest commit index; hold the read until it has.
    if (this.log.term(this.commitIndex) !== this.term) {
      this.readsAwaitingCommit.push({ requestId, from, lease });
      return;
    }
    if (this.conf.voters.length === 1 || (lease && this.leaseValid())) {
      this.answerRead(requestId, from, this.commitIndex, lease && this.conf.voters.length > 1);
      return;
    }
    // Steps 2-3: remember the commit index, then confirm we are still leader with a round of
    // heartbeats; once a majority acknowledges a round sent after this point, the read is safe.
    this.pendingReads.push({ requestId, from, index: this.commitIndex, seq: this.seq + 1 });
    this.readRoundNeeded = true;
  }

  private handleReadIndexRequest(m: ReadIndexRequest): void {
    if (this.role !== 'leader') {
      this.send<ReadIndexResponse>({
        type: 'ReadIndexResponse',
        to: m.from,
        term: this.term,
        requestId: m.requestId,
        index: -1,
      });
      return;
    }
    this.leaderRead(m.requestId, m.from, false);
  }

  private handleReadIndexResponse(m: ReadIndexResponse): void {
    if (m.index < 0) {
      this.readStates.push({ requestId: m.requestId, index: -1, error: 'leader_unavailable' });
      this.observe({
        type: 'read_index_failed',
        term: this.term,
        requestId: m.requestId,
        reason: 'leader_unavailable',
      });
    } else {
      this.readStates.push({ requestId: m.requestId, index: m.index, error: null });
      this.observe({ type: 'read_index_ready', term: this.term, requestId: m.requestId, index: m.index, lease: false });
    }
  }

  private quorumAckedSeq(): number {
    return majorityValue(
      this.conf.voters.map((v) => (v === this.id ? this.seq : (this.progress.get(v)?.ackedSeq ?? 0))),
    );
  }

  private releaseReads(): void {
    if (this.role !== 'leader' || this.pendingReads.length === 0) return;
    const acked = this.quorumAckedSeq();
    let released = 0;
    while (released < this.pendingReads.length && this.pendingReads[released].seq <= acked) {
      const r = this.pendingReads[released++];
      this.answerRead(r.requestId, r.from, r.index, false);
    }
    if (released) this.pendingReads = this.pendingReads.slice(released);
  }

  private answerRead(requestId: string, from: NodeId, index: number, lease: boolean): void {
    this.observe({ type: 'read_index_ready', term: this.term, requestId, index, lease });
    if (from === this.id) this.readStates.push({ requestId, index, error: null });
    else this.send<ReadIndexResponse>({ type: 'ReadIndexResponse', to: from, term: this.term, requestId, index });
  }

  private failRead(requestId: string, from: NodeId, reason: string): void {
    this.observe({ type: 'read_index_failed', term: this.term, requestId, reason });
    if (from === this.id) this.readStates.push({ requestId, index: -1, error: reason });
    else this.send<ReadIndexResponse>({ type: 'ReadIndexResponse', to: from, term: this.term, requestId, index: -1 });
  }

  // ===========================================================================================
  // Plumbing
  // ===========================================================================================

  /** Why a message must not be processed at all, or null. */
  private admissionProblem(m: Message): string | null {
    const shape = messageProblem(m);
    if (shape) return shape;
    if (m.clusterId !== this.cfg.clusterId)
      return `wrong cluster: message is for cluster "${m.clusterId}", this is "${this.cfg.clusterId}"`;
    if (m.to !== this.id) return `addressed to ${m.to}, this is ${this.id}`;
    if (m.from === this.id) return 'message claims to come from this node';
    // A leader this node has not heard of yet is let in: it may have joined while this node was
    // behind, and the log it sends is what introduces it. Every other message from a stranger
    // (a vote request from a removed server, a stray reply) is refused.
    const leaderTraffic = (m.type === 'AppendEntries' || m.type === 'InstallSnapshot') && m.term >= this.term;
    if (!leaderTraffic && !this.isKnownPeer(m.from)) return `unknown sender ${m.from}: not a member of this cluster`;
    return null;
  }

  /** Members of the current configuration, or of a config change in our log not yet committed. */
  private isKnownPeer(id: NodeId): boolean {
    if (this.conf.voters.includes(id) || this.conf.learners.includes(id)) return true;
    for (let i = this.log.lastIndex(); i > this.commitIndex && i > this.log.snapshotIndex; i--) {
      const e = this.log.entry(i)!;
      if (e.type === 'config' && parseConfChange(e.data)?.node === id) return true;
    }
    return false;
  }

  private handleStaleTerm(m: Message): void {
    // Figure 2, RequestVote and AppendEntries receiver rule 1: "Reply false if term < currentTerm".
    // Answering tells a deposed leader or a stale candidate about the newer term.
    switch (m.type) {
      case 'RequestVote':
        this.observe({
          type: 'vote_cast',
          term: this.term,
          candidate: m.from,
          preVote: m.preVote,
          granted: false,
          reason: 'stale_term',
        });
        this.send(this.voteResponse(m, false, 'stale_term'));
        return;
      case 'AppendEntries':
        this.send<AppendEntriesResponse>({
          type: 'AppendEntriesResponse',
          to: m.from,
          term: this.term,
          success: false,
          matchIndex: 0,
          rejectedIndex: m.prevLogIndex,
          conflictIndex: 0,
          conflictTerm: 0,
          lastLogIndex: this.log.lastIndex(),
          seq: m.seq,
          heartbeat: m.heartbeat,
        });
        return;
      case 'InstallSnapshot':
        this.send<InstallSnapshotResponse>({
          type: 'InstallSnapshotResponse',
          to: m.from,
          term: this.term,
          matchIndex: 0,
          seq: m.seq,
        });
        return;
      case 'ReadIndex':
        this.send<ReadIndexResponse>({
          type: 'ReadIndexResponse',
          to: m.from,
          term: this.term,
          requestId: m.requestId,
          index: -1,
        });
        return;
      default:
        return; // stale replies and requests need no answer
    }
  }

  /** The progress of the peer that sent a leader-bound response, if we still lead. */
  private leaderProgress(m: Message): Progress | undefined {
    if (this.role !== 'leader') return undefined;
    return this.progress.get(m.from);
  }

  private send<T extends Message>(m: Omit<T, 'clusterId' | 'from'>): void {
    this.msgs.push({ ...m, clusterId: this.cfg.clusterId, from: this.id } as unknown as Message);
  }

  private observe(o: Observation): void {
    this.observations.push(o);
  }

  private rejections = 0;
  private lastRejection: string | null = null;

  private reject(m: Message, reason: string): void {
    this.rejections++;
    this.lastRejection = reason;
    const from = m && typeof m === 'object' && typeof m.from === 'string' ? m.from : '?';
    const messageType = m && typeof m === 'object' && typeof m.type === 'string' ? m.type : '?';
    this.observe({ type: 'message_rejected', term: this.term, from, messageType, reason });
  }

  private hardStateChanged(): boolean {
    const s = this.savedHardState;
    return s.term !== this.term || s.votedFor !== this.votedFor || s.commit !== this.commitIndex;
  }
}

function parseConfChange(data: string): ConfChange | null {
  try {
    const c = JSON.parse(data) as ConfChange;
    const known = c.type === 'add_learner' || c.type === 'promote' || c.type === 'remove';
    return known && typeof c.node === 'string' ? c : null;
  } catch {
    return null;
  }
}

function cloneConf(c: ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners] };
}

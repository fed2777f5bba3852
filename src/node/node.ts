// The runtime of one node: it drives the pure consensus core with real time (a ticker), durable
// storage, the gRPC transport and the key/value state machine, following the Ready contract:
// persist (fsync) -> send -> apply. Client requests wait here for their entry to be applied.
//
// Group commit falls out of the loop: while one Ready's fsync is in flight, new proposals and
// messages accumulate in the core and leave together in the next Ready.
import { status as grpcStatus } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { Raft } from '../raft/raft.js';
import { ALL_LIBERTIES, ReadyDriver, type ReadyIO } from '../raft/driver.js';
import type { ConfChange, ConfState, Entry, Message, NodeId, Observation, Ready, ReadState } from '../raft/types.js';
import type { KvCommand } from '../kv/commands.js';
import type { Applied, LockView, NodeCounters, NodeStatus, NodeSurface, ReadConsistency } from './surface.js';
import type { DiskFaults } from '../storage/storage.js';
import type { ChaosSettings } from '../transport/chaos.js';
import { Chaos } from '../transport/chaos.js';
import { isRequest, type RequestMessage, type ResponseMessage } from '../transport/codec.js';
import { isMatchedReply, ReplyMatcher } from '../transport/replies.js';
import { NO_TRACING, type NodeTracing } from '../telemetry/raft-tracing.js';
import { RpcError, type ForwardHandler } from '../transport/server.js';
import type { NodeCollaborators, NodeStateMachine, NodeStorage, PeerClients, PeerServer } from './collaborators.js';
import type { ForwardReply__Output } from '../transport/generated/raft/ForwardReply.js';
import type { Metadata } from '@grpc/grpc-js';
import type { Context } from '@opentelemetry/api';
import { MAX_MESSAGE_BYTES } from '../transport/proto.js';
import type { NodeConfig } from './config.js';
import { ClientError, noLeader, notCommitted, notLeader, outcomeUnknown, readFailed } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { IndexWaiters, Waiters } from './waiters.js';
import { commandAttributes, describeResult } from '../telemetry/kv-attributes.js';

/** A batch of entries is cut at this many characters of data and context: at most 3 UTF-8 bytes
 *  each, plus the framing, stays within the transport's message size limit. */
const MAX_APPEND_CHARS = Math.floor(MAX_MESSAGE_BYTES / 4);

export interface NodeDeps {
  /** Storage, transport and state machine, built by the caller (src/node/factory.ts). */
  collaborators: NodeCollaborators;
  /** The tracing layer (its RPC hooks wrap the transport); none by default. */
  tracing?: NodeTracing;
  logger?: Logger;
}

export class RaftNode extends EventEmitter implements NodeSurface {
  readonly cfg: NodeConfig;
  readonly log: Logger;
  private readonly raft: Raft;
  private readonly sm: NodeStateMachine;
  private readonly chaos: Chaos;
  private readonly storage: NodeStorage;
  private readonly tracing: NodeTracing;
  private server: PeerServer;
  private clients: PeerClients;
  private ticker: NodeJS.Timeout | null = null;
  private lastTickAt = performance.now();
  private scheduled = false;
  private readonly driver: ReadyDriver;
  /** The persist in flight, awaited by a graceful stop. */
  private persisting: Promise<void> = Promise.resolve();
  private stopped = false;
  private counter = 0;
  /** Client writes waiting for their entry (by index), with the term they were proposed in. */
  private writes = new Waiters<number, Applied, { term: number }>();
  /** Calls being served, waiting for the core's reply. */
  private rpcWaiters = new Waiters<string, ResponseMessage>();
  /** Which waiting call each reply of the core answers (a timed-out call keeps its place). */
  private replies = new ReplyMatcher<string>();
  private readWaiters = new Waiters<string, number>();
  private applyWaiters = new IndexWaiters();
  /** performance.now() when this node last heard from its leader (for bounded-staleness reads). */
  private lastLeaderContact = -Infinity;
  private knownLeader: NodeId | null = null;
  private refusedLogged = { at: -Infinity, suppressed: 0 };
  grpcPort = 0;
  private readonly counters: NodeCounters = {
    leaderChanges: 0,
    electionsStarted: 0,
    electionsWon: 0,
    proposals: 0,
    rejectedMessages: 0,
    refusedPeerCalls: 0,
  };

  private constructor(cfg: NodeConfig, storage: NodeStorage, raft: Raft, deps: NodeDeps) {
    super();
    this.cfg = cfg;
    this.storage = storage;
    this.raft = raft;
    this.sm = deps.collaborators.stateMachine();
    this.log = deps.logger ?? createLogger(cfg.id, cfg.logLevel);
    this.chaos = new Chaos(cfg.chaos);
    this.tracing = deps.tracing ?? NO_TRACING;
    const hooks = this.tracing.hooks;
    this.server = deps.collaborators.server({
      clusterId: cfg.clusterId,
      nodeId: cfg.id,
      chaos: this.chaos,
      hooks,
      handler: (m) => this.handleRequest(m),
      security: cfg.security,
      onRefused: (reason, peer) => this.noteRefusedPeer(reason, peer),
    });
    this.driver = new ReadyDriver(raft, this.readyIO(), ALL_LIBERTIES, raft.log.lastIndex());
    const timeoutMs = cfg.tickMs * cfg.electionTicks;
    this.clients = deps.collaborators.clients({
      nodeId: cfg.id,
      chaos: this.chaos,
      hooks,
      resolve: (peer) => this.address(peer)?.grpc,
      deliver: (reply) => this.deliver(reply),
      onFailure: (peer, method, code, details) =>
        this.log.debug('rpc_failed', { peer, method, code: grpcStatus[code], details }),
      timeoutMs,
      snapshotTimeoutMs: Math.max(10_000, 10 * timeoutMs),
      maxInFlightPerPeer: 256,
      security: cfg.security,
    });
  }

  /** Opens storage, recovers state, starts the gRPC server and the ticker. */
  static async start(cfg: NodeConfig, deps: NodeDeps): Promise<RaftNode> {
    const log = deps.logger ?? createLogger(cfg.id, cfg.logLevel);
    const ids = cfg.peers.map((p) => p.id);
    const bootstrap = cfg.join
      ? { voters: ids.filter((id) => id !== cfg.id), learners: [cfg.id] }
      : { voters: ids, learners: [] };
    const { storage, loaded } = await deps.collaborators.openStorage(cfg.dataDir, bootstrap);
    for (const note of loaded.notes) log.warn('storage_recovered', { note });
    const raft = new Raft(
      {
        id: cfg.id,
        clusterId: cfg.clusterId,
        electionTick: cfg.electionTicks,
        heartbeatTick: cfg.heartbeatTicks,
        preVote: cfg.preVote,
        checkQuorum: cfg.checkQuorum,
        maxInflight: 64,
        maxEntriesPerAppend: 512,
        maxCharsPerAppend: MAX_APPEND_CHARS,
        learnerCatchUpMargin: 0,
        // Followers learn a new commit index with the next append or within a tick, not by an
        // extra round trip per write (issue 14).
        deferCommitNotify: true,
        random: Math.random,
      },
      loaded.state,
    );
    const node = new RaftNode(cfg, storage, raft, { ...deps, logger: log });
    // What was committed before this start is applied again from the log: those applies replay.
    node.tracing.replayUpTo(loaded.state.hardState.commit);
    if (loaded.state.snapshot) node.sm.restore(loaded.state.snapshot.data, loaded.state.snapshot.index);
    node.grpcPort = await node.server.listen(cfg.grpcListen);
    node.ticker = setInterval(() => node.syncClock(), cfg.tickMs);
    log.info('node_started', {
      term: raft.term,
      lastLogIndex: raft.log.lastIndex(),
      snapshotIndex: raft.log.snapshotIndex,
      grpc: cfg.grpcListen,
      dataDir: cfg.dataDir,
      members: raft.conf,
    });
    node.kick();
    return node;
  }

  // ------------------------------------------------------------------------------------------
  // Time
  // ------------------------------------------------------------------------------------------

  /** Catches the core's logical clock up with real time. Ticks are derived from the monotonic
   *  clock rather than counted timer callbacks, so a node that was paused (SIGSTOP, a long GC)
   *  sees the time it lost at once: its lease expires instead of outliving the pause. */
  syncClock(): void {
    const now = performance.now();
    const due = Math.floor((now - this.lastTickAt) / this.cfg.tickMs);
    if (due <= 0) return;
    this.lastTickAt += due * this.cfg.tickMs;
    // Beyond two election timeouts more ticks change nothing (leases and elections have expired).
    const n = Math.min(due, 2 * this.cfg.electionTicks);
    for (let i = 0; i < n; i++) this.raft.tick();
    this.kick();
  }

  // ------------------------------------------------------------------------------------------
  // The Ready loop
  // ------------------------------------------------------------------------------------------

  private kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    // On the next turn of the event loop, so that messages and proposals arriving meanwhile
    // leave in one Ready (one fsync, one append per follower).
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.driver.run();
    });
  }

  /** The Ready contract, carried out by the driver the simulator also runs (src/raft/driver.ts),
   *  with both of its liberties on. */
  private readyIO(): ReadyIO {
    return {
      observe: (o) => this.observe(o),
      persist: (rd, done) => {
        this.persisting = this.tracing
          .persist(
            rd,
            () => this.storage.persist(rd),
            () => this.storage.stats.lastFsyncMs,
          )
          .then(
            () => done(),
            (e: unknown) => done(e instanceof Error ? e : new Error(String(e))),
          );
      },
      restore: (rd) => this.restoreSnapshot(rd),
      send: (m) => this.dispatch(m),
      apply: (e) => this.apply(e),
      readState: (rs) => this.onReadState(rs),
      handled: () => {
        this.applyWaiters.release(this.sm.appliedIndex);
        this.maybeSnapshot();
      },
      fail: (e) => this.fail(e),
    };
  }

  private restoreSnapshot(rd: Ready): void {
    const s = rd.snapshot!;
    this.sm.restore(s.data, s.index);
    // A write waiting at or below the snapshot may or may not be inside it.
    for (const index of this.writes.keys())
      if (index <= s.index)
        this.writes.reject(index, outcomeUnknown(`a snapshot at ${s.index} replaced this node's log`));
    this.log.info('snapshot_installed', { index: s.index, term: s.term });
  }

  private dispatch(m: Message): void {
    if (isMatchedReply(m)) {
      // The reply to a call we are serving (it was made durable first: we are past persist).
      const key = this.replies.answered(m);
      if (key !== undefined) this.rpcWaiters.resolve(key, m as ResponseMessage);
      return;
    }
    if (m.type === 'ReadIndexResponse') {
      this.rpcWaiters.resolve(`ri:${m.to}:${m.requestId}`, m);
      return;
    }
    if (isRequest(m)) this.clients.send(m);
  }

  private apply(e: Entry): void {
    const result = this.tracing.apply(e, () => this.sm.apply(e), describeResult);
    const w = this.writes.meta(e.index);
    if (!w) return;
    if (w.term === e.term) this.writes.resolve(e.index, { result, index: e.index });
    else this.writes.reject(e.index, notCommitted(`a new leader replaced the entry at index ${e.index}`));
  }

  private maybeSnapshot(): void {
    const applied = this.sm.appliedIndex;
    if (applied - this.raft.log.snapshotIndex < this.cfg.snapshotEvery) return;
    const r = this.raft.compact(applied, this.sm.snapshot());
    if (r.ok) this.kick();
  }

  private observe(o: Observation): void {
    // A candidacy opens its election span before its log line; every line about what the core did
    // is written in the running election's context, so it names the election's trace.
    const opens = o.type === 'became_candidate' || o.type === 'became_pre_candidate';
    if (opens) this.tracing.observe(o);
    this.tracing.duringElection(() => this.logObservation(o));
    if (!opens) this.tracing.observe(o);
    if (this.raft.leader !== this.knownLeader) {
      this.knownLeader = this.raft.leader;
      if (this.knownLeader) {
        this.counters.leaderChanges++;
        this.log.info('leader_changed', { leader: this.knownLeader, term: this.raft.term });
      }
    }
  }

  private logObservation(o: Observation): void {
    switch (o.type) {
      case 'became_leader':
        this.counters.electionsWon++;
        this.log.info('became_leader', { term: o.term, votes: o.votes });
        break;
      case 'became_candidate':
        this.counters.electionsStarted++;
        this.log.info('became_candidate', { term: o.term, transfer: o.transfer });
        break;
      case 'became_follower':
        this.log.info('became_follower', { term: o.term, leader: o.leader, reason: o.reason });
        break;
      case 'message_rejected':
        this.counters.rejectedMessages++;
        this.log.warn('message_rejected', { from: o.from, messageType: o.messageType, reason: o.reason });
        break;
      case 'membership_changed':
      case 'snapshot_created':
      case 'transfer_started':
      case 'transfer_aborted':
      case 'check_quorum_failed':
      case 'learner_caught_up':
        this.log.info(o.type, { ...o });
        break;
      default:
        this.log.debug(o.type, { ...o });
    }
  }

  private fail(e: Error): void {
    if (this.stopped) return;
    this.log.error('fatal', { error: e.message });
    void this.stop({ graceful: false });
    this.emit('fatal', e);
  }

  // ------------------------------------------------------------------------------------------
  // Messages from peers
  // ------------------------------------------------------------------------------------------

  /** Serves an incoming RPC: steps the request into the core and waits for the core's reply,
   *  which leaves the Ready loop only after this node's state is on disk. */
  private handleRequest(m: RequestMessage): Promise<ResponseMessage | null> {
    if (this.stopped) return Promise.reject(new RpcError('shutting_down', `${this.cfg.id} is shutting down`));
    this.syncClock();
    if (m.type === 'TimeoutNow') {
      const rejected = this.raft.step(m);
      this.kick();
      return rejected ? Promise.reject(new RpcError('rejected', rejected)) : Promise.resolve(null);
    }
    const key = m.type === 'ReadIndex' ? `ri:${m.from}:${m.requestId}` : String(++this.counter);
    const timeout = this.cfg.tickMs * this.cfg.electionTicks * 2;
    const reply = this.rpcWaiters.wait(
      key,
      timeout,
      () => new RpcError('no_reply', `${this.cfg.id} produced no reply in ${timeout} ms`),
      undefined,
    );
    const rejected = this.raft.step(m);
    if (rejected) {
      this.rpcWaiters.cancel(key);
      // Decided on the message, not on the words of the refusal.
      const code = m.clusterId !== this.cfg.clusterId ? 'wrong_cluster' : 'rejected';
      return Promise.reject(new RpcError(code, `rejected by ${this.cfg.id}: ${rejected}`));
    }
    // The core answers each request it accepts with one reply, in order: the reply it produces
    // for this peer and RPC after those already waiting is this call's.
    this.replies.accepted(m, key);
    if ((m.type === 'AppendEntries' || m.type === 'InstallSnapshot') && this.raft.leader === m.from)
      this.lastLeaderContact = performance.now();
    // This request is why the next write to disk happens (entries to store, a vote to keep).
    if (
      (m.type === 'AppendEntries' && m.entries.length) ||
      m.type === 'InstallSnapshot' ||
      (m.type === 'RequestVote' && !m.preVote)
    )
      this.tracing.noteCause();
    this.kick();
    return reply;
  }

  /** A peer call refused before it was read. Logged at most once a second (with how many were
   *  not), so a flood of them cannot flood the log; the counter has them all. */
  private noteRefusedPeer(reason: string, peer: string): void {
    this.counters.refusedPeerCalls++;
    const now = performance.now();
    if (now - this.refusedLogged.at < 1000) {
      this.refusedLogged.suppressed++;
      return;
    }
    this.log.warn('peer_refused', { peer, reason, notLoggedSincePrevious: this.refusedLogged.suppressed });
    this.refusedLogged = { at: now, suppressed: 0 };
  }

  /** A reply to one of our calls. */
  private deliver(reply: ResponseMessage): void {
    if (this.stopped) return;
    this.raft.step(reply);
    this.kick();
  }

  // ------------------------------------------------------------------------------------------
  // Client operations
  // ------------------------------------------------------------------------------------------

  /** The addresses of a member, from the replicated address book or the initial peer list. */
  address(id: NodeId): { grpc: string; http: string } | undefined {
    return this.sm.members.get(id) ?? this.cfg.peers.find((p) => p.id === id);
  }

  leaderId(): NodeId | null {
    return this.raft.leader;
  }

  isLeader(): boolean {
    return this.raft.role === 'leader';
  }

  /** Proposes a command on this node, which must lead, and resolves with its result once applied.
   *  The leader stamps its clock on the command (lock leases run on this log time). The trace
   *  context of its proposal span is stored in the log entry. */
  propose(cmd: KvCommand, requestContext?: Context): Promise<Applied> {
    this.syncClock();
    if (this.raft.role !== 'leader')
      throw this.raft.leader ? notLeader(this.cfg.id, this.raft.leader) : noLeader(this.cfg.id);
    // The entry will land right after the last one: its proposal span's context goes into it.
    const index = this.raft.log.lastIndex() + 1;
    const traceContext = this.tracing.proposed(index, this.raft.term, commandAttributes(cmd), requestContext);
    const res = this.raft.propose(JSON.stringify({ ...cmd, now: Date.now() }), traceContext);
    if (!res.ok) {
      this.tracing.proposalEnded(index, res.reason);
      if (res.reason === 'transfer_in_progress')
        throw new ClientError('transfer_in_progress', 'leadership is being handed over; retry in a moment');
      throw notLeader(this.cfg.id, res.leader);
    }
    this.counters.proposals++;
    return this.awaitEntry(res.index, res.term);
  }

  /** Proposes a membership change on this node (the leader). */
  changeMembership(change: ConfChange): Promise<Applied> {
    const res = this.raft.proposeConfChange(change);
    if (!res.ok) throw new ClientError('membership_change_refused', res.reason, { leader: res.leader });
    return this.awaitEntry(res.index, res.term);
  }

  private awaitEntry(index: number, term: number): Promise<Applied> {
    this.kick();
    return this.writes.wait(
      index,
      this.cfg.requestTimeoutMs,
      () => {
        this.tracing.proposalEnded(index, 'outcome unknown: not applied in time');
        return outcomeUnknown(`not applied within ${this.cfg.requestTimeoutMs} ms`);
      },
      { term },
    );
  }

  /** Reads `key` with the requested consistency. Returns the value (undefined when absent) and
   *  the index the read reflects. */
  async read(
    key: string,
    consistency: ReadConsistency,
    maxStalenessMs = 0,
    requestContext?: Context,
  ): Promise<{ value: string | undefined; index: number }> {
    this.syncClock();
    if (consistency === 'stale') {
      const staleness = this.isLeader() ? 0 : performance.now() - this.lastLeaderContact;
      if (staleness > maxStalenessMs) {
        throw new ClientError(
          'stale_bound_exceeded',
          `${this.cfg.id} last heard from a leader ${Number.isFinite(staleness) ? `${Math.round(staleness)} ms` : 'never'} ago, more than maxStalenessMs=${maxStalenessMs}; ask another node or raise the bound`,
        );
      }
      return { value: this.sm.get(key), index: this.sm.appliedIndex };
    }
    const requestId = `${this.cfg.id}-r${++this.counter}`;
    // One deadline for the whole read: learning the read index, then applying up to it.
    const deadline = performance.now() + this.cfg.requestTimeoutMs;
    const readIndex = this.readWaiters.wait(
      requestId,
      this.cfg.requestTimeoutMs,
      () => readFailed(`no read index within ${this.cfg.requestTimeoutMs} ms`),
      undefined,
    );
    this.tracing.readStarted(requestId, requestContext);
    this.raft.readIndex(requestId, consistency === 'lease');
    this.kick();
    const index = await readIndex;
    await this.waitApplied(index, deadline);
    return { value: this.sm.get(key), index: this.sm.appliedIndex };
  }

  private onReadState(rs: ReadState): void {
    if (rs.error === null) this.readWaiters.resolve(rs.requestId, rs.index);
    else
      this.readWaiters.reject(
        rs.requestId,
        rs.error === 'no_leader'
          ? noLeader(this.cfg.id)
          : readFailed(`the leader could not confirm the read (${rs.error})`),
      );
  }

  /** Waits until this node has applied `index`, or fails with 503 at `deadline` (a node that
   *  cannot catch up, say cut off from its leader, must not hold the client forever). */
  private waitApplied(index: number, deadline: number): Promise<void> {
    if (this.sm.appliedIndex >= index) return Promise.resolve();
    return this.applyWaiters.wait(index, Math.max(0, deadline - performance.now()), () =>
      readFailed(
        `${this.cfg.id} had applied up to ${this.sm.appliedIndex}, not the read index ${index}, within ${this.cfg.requestTimeoutMs} ms (it is behind its leader)`,
      ),
    );
  }

  // ------------------------------------------------------------------------------------------
  // Forwarded writes (issue 14): a follower hands a client's write to the leader over the peers'
  // gRPC channel (raft.Raft/Forward). The HTTP side of both ends lives in src/api/forward.ts; these
  // two methods only expose this node's transport to it.
  // ------------------------------------------------------------------------------------------

  /** Sends a client's write (a command, JSON) to `leader`; rejects with a ForwardFailure. */
  forwardToLeader(leader: NodeId, command: string, md: Metadata, timeoutMs: number): Promise<ForwardReply__Output> {
    return this.clients.forward({ clusterId: this.cfg.clusterId, to: leader }, command, md, timeoutMs);
  }

  /** Who serves the writes followers forward to this node. */
  serveForwards(handler: ForwardHandler): void {
    this.server.setForwardHandler(handler);
  }

  // ------------------------------------------------------------------------------------------
  // Administration
  // ------------------------------------------------------------------------------------------

  /** Hands leadership to `target` (default: the most up-to-date voter) and waits for it. */
  async transferLeadership(target?: NodeId): Promise<NodeId> {
    if (!this.isLeader()) throw notLeader(this.cfg.id, this.raft.leader);
    const st = this.raft.status();
    const to =
      target ??
      Object.entries(st.progress)
        .filter(([id]) => st.conf.voters.includes(id))
        .sort((a, b) => b[1].match - a[1].match)[0]?.[0];
    if (!to) throw new ClientError('no_transfer_target', 'there is no other voter to hand leadership to');
    const r = this.raft.transferLeadership(to);
    if (!r.ok) throw new ClientError('transfer_refused', r.reason ?? 'refused');
    this.kick();
    const deadline = performance.now() + this.cfg.tickMs * this.cfg.electionTicks * 2;
    while (performance.now() < deadline) {
      if (this.raft.role !== 'leader' && this.raft.leader === to) return to;
      await new Promise((r) => setTimeout(r, this.cfg.tickMs));
    }
    throw new ClientError('transfer_timed_out', `${to} did not take over within two election timeouts`);
  }

  /** Snapshots the state machine now and compacts the log. */
  snapshotNow(): { index: number } {
    const r = this.raft.compact(this.sm.appliedIndex, this.sm.snapshot());
    if (!r.ok) throw new ClientError('snapshot_refused', r.reason ?? 'refused');
    this.kick();
    return { index: this.sm.appliedIndex };
  }

  get tracingEnabled(): boolean {
    return this.tracing.enabled;
  }

  members(): ConfState {
    return this.raft.status().conf;
  }

  checkConfChange(change: ConfChange): { reason: string; leader: NodeId | null } | null {
    return this.raft.checkConfChange(change);
  }

  caughtUp(id: NodeId): boolean {
    const pr = this.raft.status().progress[id];
    return pr !== undefined && pr.match >= this.raft.log.lastIndex();
  }

  lockView(name: string): LockView {
    const l = this.sm.locks.get(name);
    const held = l && l.expiresAt > this.sm.clock ? l : null;
    return {
      holder: held ? { owner: held.owner, token: held.token, expiresAt: held.expiresAt } : null,
      highestToken: this.sm.fencing.get(name) ?? 0,
      logTime: this.sm.clock,
    };
  }

  faults(): { chaos: ChaosSettings; disk: DiskFaults } {
    return { chaos: this.chaos.settings, disk: { ...this.storage.faults } };
  }

  setChaos(patch: Partial<ChaosSettings>): ChaosSettings {
    const settings = this.chaos.update(patch);
    this.log.info('chaos_changed', { ...settings });
    return settings;
  }

  setDiskFaults(patch: Partial<DiskFaults>): DiskFaults {
    if (patch.slowFsyncMs !== undefined) this.storage.faults.slowFsyncMs = patch.slowFsyncMs;
    if (patch.failWrites !== undefined) this.storage.faults.failWrites = patch.failWrites;
    this.log.info('disk_faults_changed', { ...this.storage.faults });
    return { ...this.storage.faults };
  }

  status(): NodeStatus {
    const st = this.raft.status();
    return {
      id: this.cfg.id,
      clusterId: this.cfg.clusterId,
      // Tells a supervisor its own node from another process answering on the same port.
      pid: process.pid,
      role: st.role,
      term: st.term,
      leader: st.leader,
      commitIndex: st.commitIndex,
      lastApplied: this.sm.appliedIndex,
      lastLogIndex: st.lastLogIndex,
      snapshotIndex: st.snapshotIndex,
      members: st.conf,
      progress: st.progress,
      leaseValid: this.raft.leaseValid(),
      storage: { ...this.storage.stats },
      counters: { ...this.counters },
    };
  }

  // ------------------------------------------------------------------------------------------
  // Shutdown
  // ------------------------------------------------------------------------------------------

  /** Stops the node. Graceful: a leader first hands leadership over (thesis §3.10), so the
   *  cluster does not wait an election timeout; then outstanding work is finished. */
  async stop({ graceful }: { graceful: boolean }): Promise<void> {
    if (graceful && this.isLeader() && !this.stopped && this.raft.conf.voters.length > 1) {
      try {
        const to = await this.transferLeadership();
        this.log.info('leadership_handed_over', { to });
      } catch (e) {
        this.log.warn('leadership_handover_failed', { error: (e as Error).message });
      }
    }
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.driver.stop();
    if (graceful) await this.persisting;
    this.rpcWaiters.rejectAll(() => new RpcError('shutting_down', `${this.cfg.id} is shutting down`));
    this.writes.rejectAll(() => outcomeUnknown(`${this.cfg.id} shut down before the write was applied`));
    this.readWaiters.rejectAll(() => readFailed(`${this.cfg.id} is shutting down`));
    this.applyWaiters.rejectAll(() => readFailed(`${this.cfg.id} is shutting down`));
    this.clients.close();
    if (graceful) await this.server.close();
    else this.server.forceClose();
    await this.storage.close().catch(() => {});
    this.log.info('node_stopped', { graceful });
  }
}

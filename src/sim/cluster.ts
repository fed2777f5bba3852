// A deterministic world for the consensus core: nodes with simulated disks, a faulty network, a
// virtual clock and clients. Every random choice comes from one seed, so a run replays bit for
// bit, and the checker verifies Raft's safety properties after every step.
import { Raft } from '../raft/raft.js';
import { RaftLog } from '../raft/log.js';
import { NO_LIBERTIES, ReadyDriver, type ReadyLiberties } from '../raft/driver.js';
import {
  readyWith,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Observation,
  type RaftConfig,
} from '../raft/types.js';
import { Checker, SafetyViolation } from './checker.js';
import { SimDisk } from './disk.js';
import { Promised } from './promised.js';
import type { SimCarrier, SimTracingHooks } from './tracing-hooks.js';
import { EventQueue } from './events.js';
import { RELIABLE, SimNetwork, type NetworkFaults } from './network.js';
import { isMatchedReply, isMatchedRequest, mismatch, ReplyMatcher } from '../transport/replies.js';
import { Rng } from './rng.js';
import { Timeline, describe } from './timeline.js';

export interface SimOptions {
  seed: number;
  nodes: number;
  preVote: boolean;
  checkQuorum: boolean;
  tickMs: number;
  electionTick: number;
  heartbeatTick: number;
  maxInflight: number;
  maxEntriesPerAppend: number;
  /** Compact a node's log once this many applied entries follow its snapshot (0: never). */
  compactEvery: number;
  /** Virtual milliseconds an fsync takes (0: at once). While a node's fsync is in flight it
   *  keeps stepping messages, and a crash loses what was not yet synced. */
  fsyncMs: number;
  /** The liberties the node's runtime takes with the Ready contract, so the simulator checks
   *  them (src/raft/driver.ts). */
  liberties: ReadyLiberties;
  timeline: boolean;
  /** Tracing of the run (src/telemetry/sim-tracing.ts); none by default. */
  tracing: SimTracingHooks | null;
}

export const DEFAULT_SIM: SimOptions = {
  seed: 1,
  nodes: 3,
  preVote: true,
  checkQuorum: true,
  tickMs: 10,
  electionTick: 10,
  heartbeatTick: 2,
  maxInflight: 8,
  maxEntriesPerAppend: 64,
  compactEvery: 0,
  fsyncMs: 0,
  liberties: NO_LIBERTIES,
  timeline: false,
  tracing: null,
};

type SimEvent =
  | { kind: 'tick'; node: NodeId }
  | { kind: 'deliver'; msg: Message; carrier: SimCarrier | null; call: number | null }
  | { kind: 'call'; fn: () => void };

/** A client command in the simulator: put `key` = `value`, with a unique id. */
export interface Command {
  id: string;
  key: string;
  value: string;
}

export interface Write {
  cmd: Command;
  node: NodeId;
  index: number;
  term: number;
  invokedAt: number;
  status: 'pending' | 'acked' | 'lost' | 'unknown';
  ackedAt: number;
}

export interface Read {
  requestId: string;
  node: NodeId;
  key: string;
  lease: boolean;
  invokedAt: number;
  /** Writes acknowledged before the read began must be visible to it: their highest index. */
  mustSee: number;
  readIndex: number;
  status: 'pending' | 'waiting_apply' | 'done' | 'failed';
  servedAt: number;
  value: string | undefined;
}

/** A call a node accepted: the id the network gave the request, which its reply carries back
 *  (the core's messages have no call ids: src/transport/replies.ts), and the request as it
 *  arrived, to check the reply against. */
interface SimCall {
  id: number;
  request: Message;
}

export class SimNode {
  raft: Raft | null = null;
  /** The calls this node accepted and has not answered yet (emptied when its core is replaced). */
  replies = new ReplyMatcher<SimCall>();
  /** Carries out the Ready contract for `raft` (replaced on every restart). */
  driver: ReadyDriver | null = null;
  /** The disk state as of the last completed persist (what the node may have told others). */
  promised = new Promised();
  disk = new SimDisk();
  kv = new Map<string, string>();
  applied = 0;
  /** Reads whose index is known but not applied yet. */
  waiting: Read[] = [];

  constructor(readonly id: NodeId) {}

  get alive(): boolean {
    return this.raft !== null;
  }
}

export interface MessageStats {
  byType: Record<string, number>;
  entriesSent: number;
  heartbeats: number;
}

export class SimCluster {
  readonly opts: SimOptions;
  readonly rng: Rng;
  readonly net: SimNetwork;
  readonly checker = new Checker();
  readonly timeline: Timeline;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly writes: Write[] = [];
  readonly reads: Read[] = [];
  readonly stats: MessageStats = { byType: {}, entriesSent: 0, heartbeats: 0 };
  /** Every observation, in order (kept only with the `timeline` option). */
  readonly observed: { at: number; node: NodeId; obs: Observation }[] = [];
  now = 0;
  private queue = new EventQueue<SimEvent>();
  private bootstrap: ConfState;
  private nodeRng: Rng;
  private opCounter = 0;
  private callCounter = 0;

  constructor(options: Partial<SimOptions> = {}) {
    this.opts = { ...DEFAULT_SIM, ...options };
    this.rng = new Rng(this.opts.seed);
    // Separate streams, so that e.g. an extra network draw does not change election timeouts.
    this.net = new SimNetwork(this.rng.fork());
    this.nodeRng = this.rng.fork();
    this.timeline = new Timeline(this.opts.timeline);
    this.opts.tracing?.bind(() => this.now);
    const ids = Array.from({ length: this.opts.nodes }, (_, i) => `n${i + 1}`);
    this.bootstrap = { voters: ids, learners: [] };
    for (const id of ids) this.addNode(id);
  }

  /** Creates a node (initial members, or a new server joining as a learner) and starts it. */
  addNode(id: NodeId, bootstrap: ConfState = this.bootstrap): SimNode {
    const node = new SimNode(id);
    this.nodes.set(id, node);
    this.bootstrapOf.set(id, bootstrap);
    this.start(node);
    // Each node's clock ticks at the same rate but with its own phase.
    this.queue.push(this.now + this.nodeRng.int(1, this.opts.tickMs), { kind: 'tick', node: id });
    return node;
  }

  private bootstrapOf = new Map<NodeId, ConfState>();

  ids(): NodeId[] {
    return [...this.nodes.keys()];
  }

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  raft(id: NodeId): Raft {
    const r = this.node(id).raft;
    if (!r) throw new Error(`${id} is down`);
    return r;
  }

  // ---------------------------------------------------------------------------------------
  // Running
  // ---------------------------------------------------------------------------------------

  /** Advances virtual time by `ms`, processing every event due. Throws SafetyViolation. */
  runFor(ms: number): void {
    this.runUntilTime(this.now + ms);
  }

  runUntilTime(t: number): void {
    while ((this.queue.peekTime() ?? Infinity) <= t) this.processNext();
    this.now = t;
  }

  /** Runs until `cond` holds (checked after each event) or `maxMs` pass; returns whether it held. */
  runUntil(cond: () => boolean, maxMs: number): boolean {
    const deadline = this.now + maxMs;
    if (cond()) return true;
    while ((this.queue.peekTime() ?? Infinity) <= deadline) {
      this.processNext();
      if (cond()) return true;
    }
    this.now = deadline;
    return cond();
  }

  /** Schedules `fn` at virtual time now + `delayMs`. */
  at(delayMs: number, fn: () => void): void {
    this.queue.push(this.now + delayMs, { kind: 'call', fn });
  }

  private processNext(): void {
    const item = this.queue.pop()!;
    this.now = item.at;
    const ev = item.event;
    switch (ev.kind) {
      case 'tick': {
        this.queue.push(this.now + this.opts.tickMs, ev);
        const node = this.node(ev.node);
        if (node.raft) {
          node.raft.tick();
          this.drain(node);
        }
        return;
      }
      case 'deliver': {
        const node = this.nodes.get(ev.msg.to);
        const tracing = this.opts.tracing;
        if (node?.raft) {
          tracing?.delivering(ev.msg, ev.carrier, ev.call);
          const refused = node.raft.step(ev.msg);
          if (!refused && ev.call !== null) node.replies.accepted(ev.msg, { id: ev.call, request: ev.msg });
          tracing?.delivered(ev.msg);
          this.drain(node);
        } else tracing?.lost(ev.msg, `${ev.msg.to} is down`, ev.call);
        return;
      }
      case 'call':
        ev.fn();
        return;
    }
  }

  /** Processes the Readys of a node through the same driver the node's runtime uses. */
  drain(node: SimNode): void {
    node.driver?.run();
  }

  private driverFor(node: SimNode, raft: Raft): ReadyDriver {
    const driver: ReadyDriver = new ReadyDriver(
      raft,
      {
        observe: (o) => {
          this.record(node, raft, o);
          this.opts.tracing?.observe(node.id, o);
        },
        persist: (rd, done) => {
          const traced = this.opts.tracing?.persisting(node.id, rd);
          // The checker sees the entries as the node writes them (its in-memory log holds them).
          if (rd.entries.length) this.checker.onEntriesPersisted(node.id, rd.entries, raft.log);
          node.disk.write({ ...rd, mustSync: false });
          const sync = () => {
            if (rd.mustSync) {
              node.disk.fsync();
              this.checker.onDurableState(node.id, node.disk.durableHardState());
            }
            node.promised.persisted(rd);
            traced?.();
            done();
          };
          if (!rd.mustSync || this.opts.fsyncMs === 0) return sync();
          // Completes later, unless the node crashed meanwhile (then its buffer is gone).
          this.at(this.opts.fsyncMs, () => {
            if (node.driver === driver) sync();
          });
        },
        restore: (rd) => {
          const s = rd.snapshot!;
          node.kv = new Map(JSON.parse(s.data) as [string, string][]);
          node.applied = s.index;
          this.checker.onStateMachineReset(node.id, s.index, s.term);
        },
        send: (m) => this.sendMessage(node, m),
        apply: (e) => this.apply(node, e),
        readState: (rs) => this.onReadState(node, rs.requestId, rs.error === null ? rs.index : -1),
        handled: () => {
          this.serveWaitingReads(node);
          this.maybeCompact(node);
        },
        fail: (e) => {
          throw e;
        },
      },
      this.opts.liberties,
      raft.log.lastIndex(),
    );
    return driver;
  }

  private record(node: SimNode, raft: Raft, o: Observation): void {
    if (o.type === 'became_leader') this.checker.onBecameLeader(node.id, o.term, raft.log);
    this.timeline.add(this.now, node.id, o.term, describe(o));
    if (this.opts.timeline) this.observed.push({ at: this.now, node: node.id, obs: o });
  }

  private sendMessage(node: SimNode, m: Message): void {
    this.stats.byType[m.type] = (this.stats.byType[m.type] ?? 0) + 1;
    if (m.type === 'AppendEntries') {
      this.stats.entriesSent += m.entries.length;
      if (m.heartbeat) this.stats.heartbeats++;
    }
    const call = this.callOf(node, m);
    const carrier = this.opts.tracing?.sent(m, call) ?? null;
    // Messages are copied so no two nodes ever share an object.
    const { msg, delays } = this.net.route(m);
    if (!delays.length) this.opts.tracing?.lost(m, 'dropped by the network', call);
    for (const delay of delays)
      this.queue.push(this.now + delay, { kind: 'deliver', msg: structuredClone(msg), carrier, call });
  }

  /** A request opens a call; a reply carries back the call it answers, which the core's promise
   *  (one reply per accepted request, in order) decides, and which is checked on its fields. */
  private callOf(node: SimNode, m: Message): number | null {
    if (isMatchedRequest(m)) return ++this.callCounter;
    if (!isMatchedReply(m)) return null;
    const call = node.replies.answered(m);
    if (!call) throw new Error(`${m.from} sent ${m.type} to ${m.to}, which answers no call it accepted`);
    const wrong = mismatch(call.request, m);
    if (wrong) throw new Error(`${m.from}'s ${m.type} to ${m.to} was paired with call ${call.id}: ${wrong}`);
    return call.id;
  }

  private apply(node: SimNode, e: Entry): void {
    this.checker.onApply(node.id, e);
    this.opts.tracing?.applied(node.id, e);
    node.applied = e.index;
    if (e.type === 'normal') {
      const cmd = JSON.parse(e.data) as Command;
      node.kv.set(cmd.key, cmd.value);
    }
    for (const w of this.writes) {
      if (w.status !== 'pending' || w.node !== node.id || w.index !== e.index) continue;
      if (e.term === w.term && e.data === JSON.stringify(w.cmd)) {
        w.status = 'acked';
        w.ackedAt = this.now;
      } else {
        w.status = 'lost'; // another leader's entry took its place: the client is told it failed
      }
    }
  }

  private maybeCompact(node: SimNode): void {
    const every = this.opts.compactEvery;
    const raft = node.raft;
    if (!every || !raft || node.applied - raft.log.snapshotIndex < every) return;
    const data = JSON.stringify([...node.kv.entries()]);
    // The driver handles the compaction's Ready next, in its loop.
    raft.compact(node.applied, data);
  }

  // ---------------------------------------------------------------------------------------
  // Clients
  // ---------------------------------------------------------------------------------------

  /** The live leader with the highest term, if any. */
  leader(): NodeId | null {
    let best: Raft | null = null;
    for (const n of this.nodes.values()) {
      if (n.raft?.role === 'leader' && (!best || n.raft.term > best.term)) best = n.raft;
    }
    return best ? best.id : null;
  }

  /** Proposes put(key, value) at `via` (default: the current leader). Returns the write, or
   *  null when that node would not take it. */
  write(key: string, value: string, via?: NodeId): Write | null {
    const target = via ?? this.leader();
    const node = target ? this.nodes.get(target) : undefined;
    if (!node?.raft) return null;
    const cmd: Command = { id: `c${++this.opCounter}`, key, value };
    const raft = node.raft;
    const context = this.opts.tracing?.proposed(node.id, raft.log.lastIndex() + 1, raft.term, key) ?? '';
    const res = raft.propose(JSON.stringify(cmd), context);
    if (!res.ok) return null;
    const w: Write = {
      cmd,
      node: node.id,
      index: res.index,
      term: res.term,
      invokedAt: this.now,
      status: 'pending',
      ackedAt: -1,
    };
    this.writes.push(w);
    this.drain(node);
    return w;
  }

  /** Starts a linearizable (or lease) read of `key` at `via`. */
  read(key: string, via: NodeId, lease = false): Read | null {
    const node = this.nodes.get(via);
    if (!node?.raft) return null;
    let mustSee = 0;
    for (const w of this.writes) if (w.status === 'acked' && w.index > mustSee) mustSee = w.index;
    const r: Read = {
      requestId: `r${++this.opCounter}`,
      node: via,
      key,
      lease,
      invokedAt: this.now,
      mustSee,
      readIndex: -1,
      status: 'pending',
      servedAt: -1,
      value: undefined,
    };
    this.reads.push(r);
    node.raft.readIndex(r.requestId, lease);
    this.drain(node);
    return r;
  }

  private onReadState(node: SimNode, requestId: string, index: number): void {
    const r = this.reads.find((x) => x.requestId === requestId && x.node === node.id && x.status === 'pending');
    if (!r) return;
    if (index < 0) {
      r.status = 'failed';
      return;
    }
    r.readIndex = index;
    r.status = 'waiting_apply';
    node.waiting.push(r);
  }

  private serveWaitingReads(node: SimNode): void {
    if (!node.waiting.length) return;
    const still: Read[] = [];
    for (const r of node.waiting) {
      if (node.applied < r.readIndex) {
        still.push(r);
        continue;
      }
      r.status = 'done';
      r.servedAt = node.applied;
      r.value = node.kv.get(r.key);
      // Linearizability of reads (thesis §6.4): the state read must include every write that
      // was acknowledged before the read was invoked.
      if (node.applied < r.mustSee) {
        throw new SafetyViolation(
          `stale read ${r.requestId} at ${node.id}: served at applied index ${node.applied}, but a write at index ${r.mustSee} was acknowledged before the read began`,
        );
      }
    }
    node.waiting = still;
  }

  // ---------------------------------------------------------------------------------------
  // Faults and operations
  // ---------------------------------------------------------------------------------------

  private config(id: NodeId): RaftConfig {
    return {
      id,
      clusterId: 'sim',
      electionTick: this.opts.electionTick,
      heartbeatTick: this.opts.heartbeatTick,
      preVote: this.opts.preVote,
      checkQuorum: this.opts.checkQuorum,
      maxInflight: this.opts.maxInflight,
      maxEntriesPerAppend: this.opts.maxEntriesPerAppend,
      learnerCatchUpMargin: 0,
      random: () => this.nodeRng.next(),
    };
  }

  private start(node: SimNode): void {
    const initial = node.disk.load(this.bootstrapOf.get(node.id) ?? this.bootstrap);
    node.raft = new Raft(this.config(node.id), initial);
    node.replies.clear();
    node.promised = Promised.of(initial);
    this.opts.tracing?.started(node.id, initial.hardState.commit);
    node.driver = this.driverFor(node, node.raft);
    node.kv = new Map<string, string>(
      initial.snapshot ? (JSON.parse(initial.snapshot.data) as [string, string][]) : [],
    );
    node.applied = initial.snapshot?.index ?? 0;
    node.waiting = [];
    this.checker.onStateMachineReset(node.id, node.applied, initial.snapshot?.term ?? 0);
  }

  /** Power loss at `id`: the process stops, unsynced writes are lost. */
  crash(id: NodeId): void {
    const node = this.node(id);
    if (!node.raft) return;
    node.raft = null;
    node.driver?.stop();
    node.driver = null;
    this.opts.tracing?.crashed(id);
    node.disk.crash(this.rng);
    this.checker.onCrash(id, node.promised, node.disk.load(this.bootstrap));
    for (const w of this.writes) if (w.node === id && w.status === 'pending') w.status = 'unknown';
    for (const r of node.waiting) r.status = 'failed';
    for (const r of this.reads) if (r.node === id && r.status === 'pending') r.status = 'failed';
    node.waiting = [];
    this.timeline.add(this.now, id, null, '** CRASH **');
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.raft) return;
    this.checker.onRestart(id);
    this.start(node);
    this.timeline.add(
      this.now,
      id,
      node.raft!.term,
      `** RESTART ** (term ${node.raft!.term}, ${node.raft!.log.lastIndex()} entries, snapshot at ${node.raft!.log.snapshotIndex})`,
    );
    this.drain(node);
  }

  /** Replaces a node's disk with an empty one (a server replaced by a new machine). */
  wipe(id: NodeId, bootstrap: ConfState): void {
    const node = this.node(id);
    if (node.raft) this.crash(id);
    node.disk = new SimDisk();
    this.bootstrapOf.set(id, bootstrap);
    this.checker.onWiped(id);
    this.timeline.add(this.now, id, null, '** DISK WIPED **');
  }

  /** Puts a persisted state on a crashed node's disk, as if it had lived through it: for
   *  scenarios such as Figure 8 that start from logs given in the paper. */
  preloadDisk(id: NodeId, hardState: HardState, entries: Entry[]): void {
    const node = this.node(id);
    if (node.raft) throw new Error(`crash ${id} before preloading its disk`);
    this.checker.onEntriesPersisted(id, entries, new RaftLog(null, entries));
    node.disk.write(readyWith({ hardState, entries, mustSync: true }));
    this.checker.onDurableState(id, node.disk.durableHardState());
  }

  partition(groups: NodeId[][]): void {
    this.net.partition(groups);
    this.timeline.add(this.now, '*', null, `** PARTITION ** ${groups.map((g) => `{${g.join(',')}}`).join(' | ')}`);
  }

  isolate(id: NodeId): void {
    this.net.isolate(id, this.ids());
    this.timeline.add(this.now, id, null, '** ISOLATED **');
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.net.cutLink(from, to);
    this.timeline.add(this.now, '*', null, `** CUT ** ${from} -> ${to}`);
  }

  heal(): void {
    this.net.heal();
    this.timeline.add(this.now, '*', null, '** HEAL **');
  }

  setNetwork(faults: Partial<NetworkFaults>): void {
    this.net.faults = { ...RELIABLE, ...faults };
    const f = this.net.faults;
    this.timeline.add(
      this.now,
      '*',
      null,
      `** NETWORK ** drop ${f.dropRate.toFixed(2)}, dup ${f.duplicateRate.toFixed(2)}, delay ${f.minDelayMs}-${f.maxDelayMs}ms`,
    );
  }

  confChange(change: ConfChange): boolean {
    const leader = this.leader();
    if (!leader) return false;
    const res = this.raft(leader).proposeConfChange(change);
    this.drain(this.node(leader));
    return res.ok;
  }

  transferLeadership(to: NodeId): boolean {
    const leader = this.leader();
    if (!leader) return false;
    const res = this.raft(leader).transferLeadership(to);
    this.drain(this.node(leader));
    return res.ok;
  }

  /** Clears the message counters (for tests that count messages over an interval). */
  resetStats(): void {
    this.stats.byType = {};
    this.stats.entriesSent = 0;
    this.stats.heartbeats = 0;
  }
}

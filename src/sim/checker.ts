// The safety properties of Figure 3 of the Raft paper, checked after every step of a run:
//   Election Safety      at most one leader per term
//   Log Matching         two logs with an entry of the same index and term agree on it and on
//                        everything before it (checked with a hash chain over each log)
//   Leader Completeness  a leader's log holds every entry committed before its term
//   State Machine Safety no two nodes apply different entries at the same index
// plus what a runtime relies on: applied indexes never go backwards, terms never go backwards
// on disk, and a durable vote is never changed (a node votes at most once per term, even across
// crashes).
import type { Entry, HardState, InitialState, NodeId } from '../raft/types.js';
import type { RaftLog } from '../raft/log.js';
import type { Promised } from './promised.js';

export class SafetyViolation extends Error {}

function hash(text: string): string {
  // cyrb53: a fast 53-bit string hash; collisions are negligible at these log sizes.
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

export class Checker {
  private leaders = new Map<number, NodeId>();
  private chains = new Map<string, string>([['0:0', 'root']]);
  /** Every entry any node has applied, by index: the committed log as the world has seen it. */
  readonly committed = new Map<number, { term: number; data: string }>();
  private appliedIndex = new Map<NodeId, number>();
  private durable = new Map<NodeId, HardState>();
  private votes = new Map<string, NodeId>();

  /** Election Safety and Leader Completeness, when `node` becomes leader of `term`. */
  onBecameLeader(node: NodeId, term: number, log: RaftLog): void {
    const other = this.leaders.get(term);
    if (other !== undefined && other !== node) {
      throw new SafetyViolation(`Election Safety: ${other} and ${node} both became leader of term ${term}`);
    }
    this.leaders.set(term, node);
    for (const [index, e] of this.committed) {
      if (index <= log.snapshotIndex) continue; // covered by its snapshot, which holds only committed entries
      const t = log.term(index);
      if (t !== e.term) {
        throw new SafetyViolation(
          `Leader Completeness: ${node} leads term ${term} but its entry at ${index} has term ${t ?? 'none'}, while the committed entry there has term ${e.term}`,
        );
      }
    }
  }

  /** Log Matching, for entries a node is about to persist (its in-memory log already holds them). */
  onEntriesPersisted(node: NodeId, entries: Entry[], log: RaftLog): void {
    for (const e of entries) {
      const prevIndex = e.index - 1;
      const prevTerm = log.term(prevIndex);
      const prevChain = this.chains.get(`${prevIndex}:${prevTerm}`);
      if (prevChain === undefined) {
        throw new SafetyViolation(
          `Log Matching: ${node} persisted entry ${e.index} after an entry (${prevIndex}, term ${prevTerm}) that no node ever created`,
        );
      }
      const chain = hash(`${prevChain}|${e.term}|${e.type}|${e.data}`);
      const key = `${e.index}:${e.term}`;
      const known = this.chains.get(key);
      if (known === undefined) this.chains.set(key, chain);
      else if (known !== chain) {
        throw new SafetyViolation(
          `Log Matching: ${node} has entry ${e.index} of term ${e.term} with a different history or content than another node`,
        );
      }
    }
  }

  /** State Machine Safety and monotonic application. */
  onApply(node: NodeId, e: Entry): void {
    const last = this.appliedIndex.get(node) ?? 0;
    if (e.index !== last + 1) {
      throw new SafetyViolation(
        `${node} applied index ${e.index} right after ${last}: applied indexes must go up one at a time`,
      );
    }
    this.appliedIndex.set(node, e.index);
    const known = this.committed.get(e.index);
    if (known === undefined) this.committed.set(e.index, { term: e.term, data: e.data });
    else if (known.term !== e.term || known.data !== e.data) {
      throw new SafetyViolation(
        `State Machine Safety: ${node} applied ${JSON.stringify(e.data)} (term ${e.term}) at index ${e.index}, another node applied ${JSON.stringify(known.data)} (term ${known.term})`,
      );
    }
  }

  /** The state machine was (re)loaded from a snapshot at `index`: application resumes after it. */
  onStateMachineReset(node: NodeId, index: number, term: number): void {
    const last = this.appliedIndex.get(node) ?? 0;
    if (index < last && !this.restarting.has(node)) {
      throw new SafetyViolation(`${node} restored a snapshot at ${index}, behind its applied index ${last}`);
    }
    const known = this.committed.get(index);
    if (index > 0 && known && known.term !== term) {
      throw new SafetyViolation(
        `${node} restored a snapshot at ${index} of term ${term}, but the committed entry there has term ${known.term}`,
      );
    }
    this.appliedIndex.set(node, index);
    this.restarting.delete(node);
  }

  private restarting = new Set<NodeId>();

  /** A node restarts: its state machine is rebuilt, so its applied index may start lower. */
  onRestart(node: NodeId): void {
    this.restarting.add(node);
  }

  /** A node's storage was wiped (it is replaced by a fresh server with the same id). */
  onWiped(node: NodeId): void {
    this.durable.delete(node);
    this.appliedIndex.delete(node);
    for (const key of [...this.votes.keys()]) if (key.startsWith(`${node}@`)) this.votes.delete(key);
  }

  /** At the instant of a crash, after the volatile buffer is lost: everything the node has
   *  promised to others (the term, vote and entries of its last completed persist) must be on
   *  disk. Writes issued after it may be lost, or survive in part (a later term, a newer leader's
   *  entries in place of promised ones that were never committed); nothing promised may vanish. */
  onCrash(node: NodeId, promised: Promised, durable: InitialState): void {
    const hs = durable.hardState;
    const sameTerm = hs.term === promised.term;
    if (hs.term < promised.term || (sameTerm && promised.votedFor !== null && hs.votedFor !== promised.votedFor)) {
      throw new SafetyViolation(
        `durability: ${node} crashed in term ${promised.term} having voted for ${promised.votedFor ?? 'nobody'}, but its disk says term ${hs.term}, vote ${hs.votedFor ?? 'nobody'}`,
      );
    }
    const lastDurable = durable.entries.length
      ? durable.entries[durable.entries.length - 1].index
      : (durable.snapshot?.index ?? 0);
    if (lastDurable < promised.lastIndex) {
      throw new SafetyViolation(
        `durability: ${node} crashed with entries up to ${promised.lastIndex} on disk as far as it knew, but only ${lastDurable} survived`,
      );
    }
    for (const e of durable.entries) {
      const t = promised.termAt(e.index);
      if (t !== undefined && e.term < t) {
        throw new SafetyViolation(
          `durability: ${node}'s disk has entry ${e.index} of term ${e.term}, it promised term ${t}`,
        );
      }
    }
  }

  /** What is on a node's disk after an fsync: terms never go back, votes never change. */
  onDurableState(node: NodeId, hs: HardState): void {
    const before = this.durable.get(node);
    if (before && hs.term < before.term) {
      throw new SafetyViolation(`${node}'s durable term went back from ${before.term} to ${hs.term}`);
    }
    if (hs.votedFor !== null) {
      const key = `${node}@${hs.term}`;
      const vote = this.votes.get(key);
      if (vote !== undefined && vote !== hs.votedFor) {
        throw new SafetyViolation(`${node} voted for ${vote} and then for ${hs.votedFor} in term ${hs.term}`);
      }
      this.votes.set(key, hs.votedFor);
    }
    this.durable.set(node, hs);
  }
}

// What a simulated node has promised about its disk: the state as of its last completed persist.
// Once a Ready's write is durable the runtime may act on it (send votes and acknowledgements that
// rely on it); a crash may lose only what was written after. The checker compares the disk with
// this, not with the node's memory: with fsyncs that take time (and a leader that sends before
// its own fsync) memory is legitimately ahead of the disk at the instant of a crash.
import type { InitialState, NodeId, Ready } from '../raft/types.js';

export class Promised {
  term = 0;
  votedFor: NodeId | null = null;
  /** Index of the snapshot the promised log starts after. */
  base = 0;
  /** terms[i] is the term of the promised entry at base + 1 + i. */
  terms: number[] = [];

  /** The state a (re)started node loaded is what it stands by. */
  static of(loaded: InitialState): Promised {
    const p = new Promised();
    p.term = loaded.hardState.term;
    p.votedFor = loaded.hardState.votedFor;
    p.base = loaded.snapshot?.index ?? 0;
    p.terms = loaded.entries.map((e) => e.term);
    return p;
  }

  get lastIndex(): number {
    return this.base + this.terms.length;
  }

  termAt(index: number): number | undefined {
    return index > this.base && index <= this.lastIndex ? this.terms[index - this.base - 1] : undefined;
  }

  /** A Ready's write became durable. */
  persisted(rd: Ready): void {
    if (rd.snapshot) {
      if (rd.restoreStateMachine) this.terms = [];
      else this.terms = this.terms.slice(Math.max(0, rd.snapshot.index - this.base));
      if (rd.restoreStateMachine || rd.snapshot.index > this.base) this.base = rd.snapshot.index;
    }
    if (rd.entries.length) {
      const first = rd.entries[0].index;
      this.terms = this.terms.slice(0, Math.max(0, first - this.base - 1)).concat(rd.entries.map((e) => e.term));
    }
    if (rd.hardState) {
      this.term = rd.hardState.term;
      this.votedFor = rd.hardState.votedFor;
    }
  }
}

// A simulated disk with the one property that matters for Raft's durability: writes sit in a
// volatile buffer until fsync. A crash loses the buffer, or (as a real page cache might) keeps a
// random prefix of it. The core says when an fsync is needed; if it ever said "no" wrongly, a
// vote or an acknowledged append would vanish here and the checker would see a safety violation.
import type { Entry, HardState, InitialState, Ready, Snapshot, ConfState } from '../raft/types.js';
import type { Rng } from './rng.js';

type Write =
  | { kind: 'snapshot'; snapshot: Snapshot; replacesLog: boolean }
  | { kind: 'entries'; entries: Entry[] }
  | { kind: 'hardState'; hardState: HardState };

export class SimDisk {
  private hardState: HardState = { term: 0, votedFor: null, commit: 0 };
  private snapshot: Snapshot | null = null;
  private entries: Entry[] = [];
  private buffer: Write[] = [];

  /** Writes the persistent parts of a Ready, in the order the Ready contract gives. */
  write(rd: Ready): void {
    if (rd.snapshot) this.buffer.push({ kind: 'snapshot', snapshot: rd.snapshot, replacesLog: rd.restoreStateMachine });
    if (rd.entries.length) this.buffer.push({ kind: 'entries', entries: rd.entries });
    if (rd.hardState) this.buffer.push({ kind: 'hardState', hardState: rd.hardState });
    if (rd.mustSync) this.fsync();
  }

  fsync(): void {
    for (const w of this.buffer) this.applyWrite(w);
    this.buffer = [];
  }

  /** Power loss: unsynced writes are lost, except a random prefix the OS happened to flush. */
  crash(rng: Rng): void {
    const survived = rng.int(0, this.buffer.length);
    for (const w of this.buffer.slice(0, survived)) this.applyWrite(w);
    this.buffer = [];
  }

  /** What a restarting node reads back. */
  load(bootstrapConf: ConfState): InitialState {
    return {
      hardState: { ...this.hardState },
      snapshot: this.snapshot,
      entries: [...this.entries],
      bootstrapConf,
    };
  }

  /** The durable vote of this disk (for the checker). */
  durableHardState(): HardState {
    return { ...this.hardState };
  }

  private applyWrite(w: Write): void {
    switch (w.kind) {
      case 'snapshot': {
        this.snapshot = w.snapshot;
        // A snapshot from the leader replaces the whole log; a local one drops what it covers.
        this.entries = w.replacesLog ? [] : this.entries.filter((e) => e.index > w.snapshot.index);
        if (this.hardState.commit < w.snapshot.index) this.hardState = { ...this.hardState, commit: w.snapshot.index };
        return;
      }
      case 'entries': {
        const first = w.entries[0].index;
        this.entries = this.entries.filter((e) => e.index < first).concat(w.entries);
        return;
      }
      case 'hardState':
        this.hardState = { ...w.hardState };
        return;
    }
  }
}

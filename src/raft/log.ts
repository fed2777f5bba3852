// The replicated log as the core sees it: a snapshot (everything up to snapshotIndex, compacted)
// followed by the entries after it. The core keeps the whole uncompacted tail in memory; durable
// storage is the runtime's job, driven by what `takeUnpersisted` hands out.
import type { Entry, Snapshot } from './types.js';

export class RaftLog {
  /** Index and term of the last entry covered by the snapshot (0/0 when there is none). */
  snapshotIndex = 0;
  snapshotTerm = 0;
  snapshot: Snapshot | null = null;
  private entries: Entry[] = [];
  /** Lowest index changed since the runtime last took the unpersisted entries (Infinity: none). */
  private dirtyFrom = Infinity;

  constructor(snapshot: Snapshot | null, entries: Entry[]) {
    if (snapshot) {
      this.snapshot = snapshot;
      this.snapshotIndex = snapshot.index;
      this.snapshotTerm = snapshot.term;
    }
    let expect = this.snapshotIndex + 1;
    for (const e of entries) {
      if (e.index < expect) continue; // already covered by the snapshot
      if (e.index !== expect) throw new Error(`log is not contiguous: expected index ${expect}, found ${e.index}`);
      this.entries.push(e);
      expect++;
    }
  }

  firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length ? this.entries[this.entries.length - 1].term : this.snapshotTerm;
  }

  /** The term of the entry at `index`, or undefined when it is compacted away or not there yet. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshotIndex - 1].term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshotIndex - 1];
  }

  /** Entries in [lo, hi], at most `max` of them. Callers ensure lo > snapshotIndex. */
  slice(lo: number, hi: number, max = Infinity, maxChars = Infinity): Entry[] {
    if (lo <= this.snapshotIndex) throw new Error(`slice(${lo}) reaches into the snapshot (${this.snapshotIndex})`);
    let end = Math.min(hi, this.lastIndex(), lo + max - 1);
    if (end < lo) return [];
    if (maxChars !== Infinity) {
      // Always at least one entry, then as many as fit in the budget.
      let chars = 0;
      for (let i = lo; i <= end; i++) {
        const e = this.entries[i - this.snapshotIndex - 1];
        chars += e.data.length + e.context.length;
        if (chars > maxChars && i > lo) {
          end = i - 1;
          break;
        }
      }
    }
    return this.entries.slice(lo - this.snapshotIndex - 1, end - this.snapshotIndex);
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up-to-date as ours if its last term is higher, or
   *  the same with a last index at least as high. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** The first index of the run of entries with the same term as `index`, not going below
   *  `floor` (the fast-backtracking hint of §5.3). */
  firstIndexOfTerm(index: number, floor: number): number {
    const t = this.term(index);
    let i = index;
    while (i - 1 > Math.max(floor, this.snapshotIndex) && this.term(i - 1) === t) i--;
    return i;
  }

  /** The last index at or below `from` whose term is `term`, or 0 when there is none. */
  lastIndexOfTerm(term: number, from: number): number {
    for (let i = Math.min(from, this.lastIndex()); i > this.snapshotIndex; i--) {
      const t = this.entries[i - this.snapshotIndex - 1].term;
      if (t === term) return i;
      if (t < term) return 0; // terms only grow along the log
    }
    return this.snapshotTerm === term && this.snapshotIndex <= from ? this.snapshotIndex : 0;
  }

  /** Appends entries that directly follow the last one (leader side). */
  append(entries: Entry[]): void {
    if (!entries.length) return;
    if (entries[0].index !== this.lastIndex() + 1) {
      throw new Error(`append at ${entries[0].index} does not follow last index ${this.lastIndex()}`);
    }
    this.dirtyFrom = Math.min(this.dirtyFrom, entries[0].index);
    for (const e of entries) this.entries.push(e);
  }

  /** Drops the entries at and after `index` (a conflicting suffix, Figure 2 AppendEntries rule 3). */
  truncateFrom(index: number): void {
    if (index <= this.snapshotIndex)
      throw new Error(`cannot truncate at ${index}: compacted up to ${this.snapshotIndex}`);
    this.entries.length = Math.max(0, index - this.snapshotIndex - 1);
    this.dirtyFrom = Math.min(this.dirtyFrom, index);
  }

  /** Entries the runtime must persist, replacing whatever it stored at and after the first. */
  takeUnpersisted(): Entry[] {
    if (this.dirtyFrom === Infinity) return [];
    const from = Math.max(this.dirtyFrom, this.firstIndex());
    this.dirtyFrom = Infinity;
    return from > this.lastIndex() ? [] : this.entries.slice(from - this.snapshotIndex - 1);
  }

  hasUnpersisted(): boolean {
    return this.dirtyFrom !== Infinity && this.dirtyFrom <= this.lastIndex();
  }

  /** Compacts everything up to the snapshot's index (local compaction, §7). */
  compactTo(snapshot: Snapshot): void {
    const keep = this.entries.slice(Math.max(0, snapshot.index - this.snapshotIndex));
    this.entries = keep;
    this.snapshot = snapshot;
    this.snapshotIndex = snapshot.index;
    this.snapshotTerm = snapshot.term;
  }

  /** Replaces the whole log with a snapshot received from the leader (§7: "discard the entire log"). */
  restore(snapshot: Snapshot): void {
    this.entries = [];
    this.snapshot = snapshot;
    this.snapshotIndex = snapshot.index;
    this.snapshotTerm = snapshot.term;
    this.dirtyFrom = Infinity;
  }
}

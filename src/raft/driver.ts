// The Ready contract (types.ts) carried out once, for every runtime that drives the core: the node
// (real disk, gRPC, the key/value state machine) and the simulator (simulated disk and network).
// The runtime supplies the I/O; this file supplies the order: observe, persist, send, apply, serve
// reads, one Ready at a time. Because both runtimes go through it, the simulator's safety checker
// checks the order production uses, including its two liberties when they are switched on.
//
// Persisting may take time (a real fsync, or a simulated one that completes at a later virtual
// instant): `persist` is handed a callback to call when the write is durable. While one Ready waits
// for its fsync, the core keeps taking messages and proposals; they leave together in the next
// Ready (group commit).
import type { Entry, Message, Observation, ReadState, Ready } from './types.js';

/** The two liberties a runtime may take with the Ready contract; both are safe (types.ts). */
export interface ReadyLiberties {
  /** A leader's AppendEntries and InstallSnapshot leave before its own fsync (thesis §10.2.1: the
   *  leader writes its log in parallel with replicating it; whatever the replies make committed
   *  shows only in a later Ready, and Readys are handled one at a time). */
  sendAppendsBeforeFsync: boolean;
  /** Committed entries already durable are applied before this Ready's new entries are synced. */
  applyDurableEarly: boolean;
}

export const NO_LIBERTIES: ReadyLiberties = { sendAppendsBeforeFsync: false, applyDurableEarly: false };
export const ALL_LIBERTIES: ReadyLiberties = { sendAppendsBeforeFsync: true, applyDurableEarly: true };

/** What a runtime does with a Ready's parts. */
export interface ReadyIO {
  /** Every observation of the Ready, before anything else happens. */
  observe(o: Observation, rd: Ready): void;
  /** Writes the Ready's snapshot, entries and hard state (fsync'd if `rd.mustSync`), then calls
   *  `done` (with the error, if the write failed). `done` may be called at once or later. */
  persist(rd: Ready, done: (error?: Error) => void): void;
  /** After the persist: a snapshot received from the leader replaces the state machine. */
  restore(rd: Ready): void;
  send(m: Message): void;
  apply(e: Entry): void;
  readState(rs: ReadState): void;
  /** The Ready is fully handled (applied entries, served reads): a moment to snapshot, release
   *  waiters, ... */
  handled(rd: Ready): void;
  /** A persist failed: the runtime can no longer keep the contract. The driver stops. */
  fail(error: Error): void;
}

/** The part of the core the driver needs. */
export interface ReadySource {
  hasReady(): boolean;
  ready(): Ready;
}

export class ReadyDriver {
  private waiting = false;
  private stopped = false;
  /** The highest log index known to be on disk. */
  durableIndex: number;

  constructor(
    private readonly core: ReadySource,
    private readonly io: ReadyIO,
    readonly liberties: ReadyLiberties,
    durableIndex: number,
  ) {
    this.durableIndex = durableIndex;
  }

  /** True while a Ready waits for its persist to complete. */
  get busy(): boolean {
    return this.waiting;
  }

  /** No new Ready is taken (a shutdown). A Ready whose persist is in flight is finished when the
   *  persist completes; a runtime that crashes simply never completes it. */
  stop(): void {
    this.stopped = true;
  }

  /** Handles Readys until the core has none or one waits for its persist. */
  run(): void {
    while (!this.waiting && !this.stopped && this.core.hasReady()) {
      const rd = this.core.ready();
      let finished = false;
      let resumeLater = false;
      this.handle(rd, () => {
        finished = true;
        if (resumeLater) this.run();
      });
      if (!finished) {
        resumeLater = true;
        return;
      }
    }
  }

  private handle(rd: Ready, finished: () => void): void {
    for (const o of rd.observations) this.io.observe(o, rd);
    const early = this.liberties.sendAppendsBeforeFsync
      ? rd.messages.filter((m) => m.type === 'AppendEntries' || m.type === 'InstallSnapshot')
      : [];
    const late = early.length
      ? rd.messages.filter((m) => m.type !== 'AppendEntries' && m.type !== 'InstallSnapshot')
      : rd.messages;
    for (const m of early) this.io.send(m);
    let applied = 0;
    if (this.liberties.applyDurableEarly) {
      const c = rd.committedEntries;
      while (applied < c.length && c[applied].index <= this.durableIndex) this.io.apply(c[applied++]);
    }
    this.waiting = true;
    this.io.persist(rd, (error) => {
      this.waiting = false;
      if (error) {
        this.stopped = true;
        this.io.fail(error);
        return finished();
      }
      if (rd.snapshot)
        this.durableIndex = rd.restoreStateMachine ? rd.snapshot.index : Math.max(this.durableIndex, rd.snapshot.index);
      if (rd.entries.length) this.durableIndex = rd.entries[rd.entries.length - 1].index;
      if (rd.snapshot && rd.restoreStateMachine) this.io.restore(rd);
      for (const m of late) this.io.send(m);
      for (let i = applied; i < rd.committedEntries.length; i++) this.io.apply(rd.committedEntries[i]);
      for (const rs of rd.readStates) this.io.readState(rs);
      this.io.handled(rd);
      finished();
    });
  }
}

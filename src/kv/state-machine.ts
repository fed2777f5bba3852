// The replicated key/value state machine. It is deterministic: the same log applied on every
// replica gives the same state and the same results. Its state can be snapshotted for log
// compaction and restored from a snapshot.
//
// Commands are dispatched through `handlers`, one function per op: locks with fencing tokens and
// idempotent requests plug in here as new ops and wrappers without touching the rest.
import type { Entry } from '../raft/types.js';
import type { KvCommand, KvResult } from './commands.js';

export interface MemberAddress {
  grpc: string;
  http: string;
}

interface Stored {
  value: string;
  /** Index of the entry that last wrote it. */
  modIndex: number;
}

type Handler<C extends KvCommand = KvCommand> = (sm: KvStateMachine, cmd: C, index: number) => KvResult;

const handlers: { [K in KvCommand['op']]: Handler<Extract<KvCommand, { op: K }>> } = {
  put(sm, c, index) {
    sm.data.set(c.key, { value: c.value, modIndex: index });
    return { op: 'put', key: c.key, value: c.value, index };
  },
  delete(sm, c, index) {
    const existed = sm.data.delete(c.key);
    return { op: 'delete', key: c.key, index, existed };
  },
  cas(sm, c, index) {
    const current = sm.data.get(c.key)?.value ?? null;
    if (current !== c.expected) return { op: 'cas', key: c.key, swapped: false, current, index };
    sm.data.set(c.key, { value: c.value, modIndex: index });
    return { op: 'cas', key: c.key, swapped: true, index };
  },
  register_member(sm, c, index) {
    sm.members.set(c.id, { grpc: c.grpc, http: c.http });
    return { op: 'register_member', id: c.id, index };
  },
};

export class KvStateMachine {
  readonly data = new Map<string, Stored>();
  readonly members = new Map<string, MemberAddress>();
  appliedIndex = 0;

  /** Applies one committed entry. Entries that are not commands (no-ops, membership changes)
   *  only advance the applied index. A malformed command yields an error result, identically
   *  on every replica, instead of stopping the state machine. */
  apply(e: Entry): KvResult | null {
    this.appliedIndex = e.index;
    if (e.type !== 'normal') return null;
    let cmd: KvCommand;
    try {
      cmd = JSON.parse(e.data) as KvCommand;
    } catch {
      return { op: 'error', code: 'bad_command', message: 'entry data is not JSON', index: e.index };
    }
    const handler = handlers[cmd?.op as KvCommand['op']] as Handler | undefined;
    if (!handler) return { op: 'error', code: 'unknown_op', message: `unknown operation ${String(cmd?.op)}`, index: e.index };
    return handler(this, cmd, e.index);
  }

  get(key: string): string | undefined {
    return this.data.get(key)?.value;
  }

  snapshot(): string {
    return JSON.stringify({
      v: 1,
      data: [...this.data.entries()],
      members: [...this.members.entries()],
    });
  }

  restore(snapshot: string, index: number): void {
    const s = JSON.parse(snapshot) as { v: number; data: [string, Stored][]; members: [string, MemberAddress][] };
    this.data.clear();
    this.members.clear();
    for (const [k, v] of s.data) this.data.set(k, v);
    for (const [k, v] of s.members) this.members.set(k, v);
    this.appliedIndex = index;
  }
}

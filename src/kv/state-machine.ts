// The replicated key/value state machine. It is deterministic: the same log applied on every
// replica gives the same state and the same results. Its whole state (data, locks, fencing
// high-water marks, remembered idempotency keys, member addresses) goes into snapshots.
//
// Commands are dispatched through `handlers`, one function per op; idempotency and fencing wrap
// every write the same way, in `apply`.
import type { Entry } from '../raft/types.js';
import { LIMITS, type KvCommand, type KvOp, type KvResult } from './commands.js';

export interface MemberAddress {
  grpc: string;
  http: string;
}

interface Stored {
  value: string;
  /** Index of the entry that last wrote it. */
  modIndex: number;
}

export interface Lock {
  owner: string;
  token: number;
  expiresAt: number;
  ttlMs: number;
}

interface Remembered {
  /** What the request was, so a key reused for a different request is caught. */
  fingerprint: string;
  result: KvResult;
  at: number;
}

type Handler<C extends KvOp = KvOp> = (sm: KvStateMachine, cmd: C, index: number, now: number) => KvResult;

const handlers: { [K in KvOp['op']]: Handler<Extract<KvOp, { op: K }>> } = {
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
  lock_acquire(sm, c, index, now) {
    const held = sm.liveLock(c.name, now);
    if (held && held.owner !== c.owner)
      return { op: 'lock_acquire', name: c.name, granted: false, holder: held.owner, expiresAt: held.expiresAt, index };
    // A free lock (or its own, re-acquired) gets a new, strictly larger fencing token.
    const token = (sm.fencing.get(c.name) ?? 0) + 1;
    const lock = { owner: c.owner, token, expiresAt: now + c.ttlMs, ttlMs: c.ttlMs };
    sm.locks.set(c.name, lock);
    sm.fencing.set(c.name, token);
    return { op: 'lock_acquire', name: c.name, granted: true, token, expiresAt: lock.expiresAt, index };
  },
  lock_renew(sm, c, index, now) {
    const held = sm.liveLock(c.name, now);
    if (!held || held.owner !== c.owner || held.token !== c.token) {
      return {
        op: 'lock_renew',
        name: c.name,
        ok: false,
        expiresAt: held?.expiresAt ?? 0,
        index,
        reason: notHolder(held, c, now),
      };
    }
    held.ttlMs = c.ttlMs ?? held.ttlMs;
    held.expiresAt = now + held.ttlMs;
    return { op: 'lock_renew', name: c.name, ok: true, expiresAt: held.expiresAt, index };
  },
  lock_release(sm, c, index, now) {
    const held = sm.liveLock(c.name, now);
    if (!held || held.owner !== c.owner || held.token !== c.token) {
      return {
        op: 'lock_release',
        name: c.name,
        ok: false,
        expiresAt: held?.expiresAt ?? 0,
        index,
        reason: notHolder(held, c, now),
      };
    }
    sm.locks.delete(c.name);
    return { op: 'lock_release', name: c.name, ok: true, expiresAt: now, index };
  },
  register_member(sm, c, index) {
    sm.members.set(c.id, { grpc: c.grpc, http: c.http });
    return { op: 'register_member', id: c.id, index };
  },
};

function notHolder(held: Lock | undefined, c: { owner: string; token: number }, now: number): string {
  if (!held) return `the lock is free (expired or released); token ${c.token} is no longer valid`;
  if (held.owner !== c.owner || held.token !== c.token)
    return `the lock is held by ${held.owner} with token ${held.token}, not by ${c.owner} with token ${c.token}`;
  return `unexpected state at ${now}`;
}

const WRITES = new Set(['put', 'delete', 'cas']);

export class KvStateMachine {
  readonly data = new Map<string, Stored>();
  readonly members = new Map<string, MemberAddress>();
  readonly locks = new Map<string, Lock>();
  /** The highest fencing token issued or seen per lock. */
  readonly fencing = new Map<string, number>();
  /** Idempotency keys in the order they were first applied (oldest first: Map keeps it). */
  readonly remembered = new Map<string, Remembered>();
  /** Log time: the largest leader clock seen in the log. It never goes back, even when a new
   *  leader's clock is behind the old one's. */
  clock = 0;
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
    // JSON that is not an object ("null", "3") is as unreadable as bad JSON: refuse it, don't throw.
    if (typeof cmd !== 'object' || cmd === null)
      return { op: 'error', code: 'bad_command', message: 'entry data is not a command object', index: e.index };
    if (typeof cmd.now === 'number' && cmd.now > this.clock) this.clock = cmd.now;
    // Entries come from disk and peers: an op this version does not know is refused, not trusted.
    const handler = (Object.hasOwn(handlers, cmd.op) ? handlers[cmd.op] : undefined) as Handler | undefined;
    if (!handler)
      return { op: 'error', code: 'unknown_op', message: `unknown operation ${String(cmd.op)}`, index: e.index };

    // Idempotency: a request applied before returns its first result and changes nothing.
    this.forgetOldKeys();
    const fingerprint = cmd.idem ? JSON.stringify({ ...cmd, now: undefined, idem: undefined }) : '';
    if (cmd.idem) {
      const seen = this.remembered.get(cmd.idem);
      if (seen) {
        if (seen.fingerprint !== fingerprint) {
          return {
            op: 'error',
            code: 'idempotency_key_reused',
            message: `Idempotency-Key "${cmd.idem}" was used for a different request`,
            index: e.index,
          };
        }
        return seen.result;
      }
    }
    let result: KvResult;
    const fenced = cmd.fence && WRITES.has(cmd.op) ? this.fenceProblem(cmd.fence) : null;
    if (fenced) result = { op: 'error', code: fenced.code, message: fenced.message, index: e.index };
    else result = handler(this, cmd, e.index, this.clock);
    if (cmd.idem) this.remembered.set(cmd.idem, { fingerprint, result, at: this.clock });
    return result;
  }

  /** Kleppmann's rule: refuse a token older than the newest one seen for the lock. */
  private fenceProblem(f: { lock: string; token: number }): { code: string; message: string } | null {
    const highest = this.fencing.get(f.lock) ?? 0;
    if (f.token > highest)
      return {
        code: 'unknown_fencing_token',
        message: `lock "${f.lock}" never issued token ${f.token} (highest issued: ${highest})`,
      };
    const lock = this.locks.get(f.lock);
    const current = lock && lock.expiresAt > this.clock ? lock.token : null;
    if (f.token < highest) {
      return {
        code: 'fenced',
        message: `fencing token ${f.token} for lock "${f.lock}" is stale: token ${highest} was issued since${current === highest ? ' and is held now' : ''}. The lock was lost; acquire it again`,
      };
    }
    return null;
  }

  /** The lock if it is held and its lease has not run out by log time `now`. */
  liveLock(name: string, now: number): Lock | undefined {
    const l = this.locks.get(name);
    if (!l) return undefined;
    if (l.expiresAt <= now) {
      this.locks.delete(name);
      return undefined;
    }
    return l;
  }

  private forgetOldKeys(): void {
    for (const [k, r] of this.remembered) {
      if (this.remembered.size <= LIMITS.idempotencyKeys && this.clock - r.at <= LIMITS.idempotencyTtlMs) break;
      this.remembered.delete(k);
    }
  }

  get(key: string): string | undefined {
    return this.data.get(key)?.value;
  }

  snapshot(): string {
    return JSON.stringify({
      v: 2,
      clock: this.clock,
      data: [...this.data.entries()],
      members: [...this.members.entries()],
      locks: [...this.locks.entries()],
      fencing: [...this.fencing.entries()],
      remembered: [...this.remembered.entries()],
    });
  }

  restore(snapshot: string, index: number): void {
    const s = JSON.parse(snapshot) as {
      clock?: number;
      data: [string, Stored][];
      members: [string, MemberAddress][];
      locks?: [string, Lock][];
      fencing?: [string, number][];
      remembered?: [string, Remembered][];
    };
    for (const m of [this.data, this.members, this.locks, this.fencing, this.remembered]) m.clear();
    for (const [k, v] of s.data) this.data.set(k, v);
    for (const [k, v] of s.members) this.members.set(k, v);
    for (const [k, v] of s.locks ?? []) this.locks.set(k, v);
    for (const [k, v] of s.fencing ?? []) this.fencing.set(k, v);
    for (const [k, v] of s.remembered ?? []) this.remembered.set(k, v);
    this.clock = s.clock ?? 0;
    this.appliedIndex = index;
  }
}

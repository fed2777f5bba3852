// The commands the replicated state machine understands, and the limits the API enforces on
// them. A command travels as the JSON `data` of a log entry; every replica applies it the same
// way, so its result can be computed on any node (and is, on every node).

export const LIMITS = {
  /** Longest key or lock name, in UTF-8 bytes. */
  keyBytes: 512,
  /** Longest value, in UTF-8 bytes. */
  valueBytes: 64 * 1024,
  /** Largest HTTP request body. */
  bodyBytes: 128 * 1024,
  /** Longest Idempotency-Key, lock owner or fencing header. */
  tokenBytes: 256,
  /** Idempotency keys remembered; the oldest are forgotten first. */
  idempotencyKeys: 10_000,
  /** ...and none is remembered longer than this (log time). */
  idempotencyTtlMs: 10 * 60 * 1000,
  /** Lock leases: shortest and longest. */
  minTtlMs: 100,
  maxTtlMs: 10 * 60 * 1000,
} as const;

/** A fencing token presented with a write: the write is refused if a newer holder of `lock`
 *  has been seen (Kleppmann, "How to do distributed locking"). */
export interface Fence {
  lock: string;
  token: number;
}

export type KvOp =
  | { op: 'put'; key: string; value: string }
  | { op: 'delete'; key: string }
  /** Compare-and-set: `expected: null` means "only if absent". */
  | { op: 'cas'; key: string; expected: string | null; value: string }
  | { op: 'lock_acquire'; name: string; owner: string; ttlMs: number }
  | { op: 'lock_renew'; name: string; owner: string; token: number; ttlMs?: number }
  | { op: 'lock_release'; name: string; owner: string; token: number }
  /** Records a member's addresses, so every node can reach servers added at run time. */
  | { op: 'register_member'; id: string; grpc: string; http: string };

/** A command as it is stored in the log: the operation plus what the leader adds to it. */
export type KvCommand = KvOp & {
  /** The leader's clock when it proposed the command: lock leases expire by this time, the same
   *  on every replica, never by a replica's own clock. */
  now?: number;
  /** The client's Idempotency-Key: a retry with the same key gets the first result. */
  idem?: string;
  fence?: Fence;
};

export type KvResult =
  | { op: 'put'; key: string; value: string; index: number }
  | { op: 'delete'; key: string; index: number; existed: boolean }
  | { op: 'cas'; key: string; swapped: true; index: number }
  | { op: 'cas'; key: string; swapped: false; current: string | null; index: number }
  | { op: 'lock_acquire'; name: string; granted: true; token: number; expiresAt: number; index: number }
  | { op: 'lock_acquire'; name: string; granted: false; holder: string; expiresAt: number; index: number }
  | { op: 'lock_renew' | 'lock_release'; name: string; ok: boolean; expiresAt: number; index: number; reason?: string }
  | { op: 'register_member'; id: string; index: number }
  | { op: 'error'; code: string; message: string; index: number };

/** Why a key (or lock name) is not acceptable, or null. */
export function keyProblem(key: unknown): string | null {
  if (typeof key !== 'string' || key.length === 0) return 'the key must be a non-empty string';
  if (keyTooLong(key)) return `the key is longer than ${LIMITS.keyBytes} bytes`;
  return null;
}

/** True when `key` is a string over the key limit (the one key problem with its own status). */
export function keyTooLong(key: unknown): boolean {
  return typeof key === 'string' && Buffer.byteLength(key, 'utf8') > LIMITS.keyBytes;
}

/** True when `value` is a string over the value limit (the one value problem with its own status). */
export function valueTooLong(value: unknown): boolean {
  return typeof value === 'string' && Buffer.byteLength(value, 'utf8') > LIMITS.valueBytes;
}

/** Why a value is not acceptable, or null. */
export function valueProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'the value must be a string';
  if (valueTooLong(value))
    return `the value is longer than ${LIMITS.valueBytes} bytes (${LIMITS.valueBytes / 1024} KiB)`;
  return null;
}

/** Parses an X-Fencing-Token header, "{lock}:{token}". */
export function parseFence(header: string): Fence | null {
  const m = /^(.+):(\d{1,15})$/.exec(header);
  if (!m || keyProblem(m[1])) return null;
  return { lock: m[1], token: Number(m[2]) };
}

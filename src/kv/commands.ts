// The commands the replicated state machine understands, and the limits the API enforces on
// them. A command travels as the JSON `data` of a log entry; every replica applies it the same
// way, so its result can be computed on any node (and is, on every node).

export const LIMITS = {
  /** Longest key, in UTF-8 bytes. */
  keyBytes: 512,
  /** Longest value, in UTF-8 bytes. */
  valueBytes: 64 * 1024,
  /** Largest HTTP request body. */
  bodyBytes: 128 * 1024,
} as const;

export type KvCommand =
  | { op: 'put'; key: string; value: string }
  | { op: 'delete'; key: string }
  /** Compare-and-set: `expected: null` means "only if absent". */
  | { op: 'cas'; key: string; expected: string | null; value: string }
  /** Records a member's addresses, so every node can reach servers added at run time. */
  | { op: 'register_member'; id: string; grpc: string; http: string };

export type KvResult =
  | { op: 'put'; key: string; value: string; index: number }
  | { op: 'delete'; key: string; index: number; existed: boolean }
  | { op: 'cas'; key: string; swapped: true; index: number }
  | { op: 'cas'; key: string; swapped: false; current: string | null; index: number }
  | { op: 'register_member'; id: string; index: number }
  | { op: 'error'; code: string; message: string; index: number };

/** Why a key is not acceptable, or null. */
export function keyProblem(key: unknown): string | null {
  if (typeof key !== 'string' || key.length === 0) return 'the key must be a non-empty string';
  if (Buffer.byteLength(key, 'utf8') > LIMITS.keyBytes) return `the key is longer than ${LIMITS.keyBytes} bytes`;
  return null;
}

/** Why a value is not acceptable, or null. */
export function valueProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'the value must be a string';
  if (Buffer.byteLength(value, 'utf8') > LIMITS.valueBytes) return `the value is longer than ${LIMITS.valueBytes} bytes (${LIMITS.valueBytes / 1024} KiB)`;
  return null;
}

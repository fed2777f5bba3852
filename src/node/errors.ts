// The ways a request can fail, by code, and the one table that gives each code its status: the
// HTTP status a client gets (README "Errors" is the contract, test/node/error-codes.test.ts holds
// the two together) and the gRPC status a peer gets. Callers name the code; nothing else chooses
// a status. "Unknown outcome" is its own kind: the client must not assume the write failed.
import { status as grpc } from '@grpc/grpc-js';

/** HTTP status of every error code the API answers with. */
export const HTTP_STATUS = {
  bad_json: 400,
  bad_request: 400,
  bad_value: 400,
  bad_key: 400,
  bad_path: 400,
  bad_idempotency_key: 400,
  bad_fencing_token: 400,
  bad_chaos: 400,
  bad_disk_fault: 400,
  bad_command: 400,
  unknown_op: 400,
  unauthorized: 401,
  admin_disabled: 403,
  key_not_found: 404,
  not_found: 404,
  lock_held: 409,
  not_holder: 409,
  fenced: 409,
  unknown_fencing_token: 409,
  transfer_refused: 409,
  no_transfer_target: 409,
  snapshot_refused: 409,
  membership_change_refused: 409,
  address_in_use: 409,
  membership_change_in_progress: 409,
  leader_changed: 409,
  body_too_large: 413,
  unsupported_charset: 415,
  unsupported_encoding: 415,
  idempotency_key_reused: 422,
  internal: 500,
  no_leader: 503,
  not_leader: 503,
  leader_unreachable: 503,
  leader_unknown_address: 503,
  transfer_in_progress: 503,
  not_committed: 503,
  stale_bound_exceeded: 503,
  read_unavailable: 503,
  outcome_unknown: 504,
  transfer_timed_out: 504,
  learner_not_caught_up: 504,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof HTTP_STATUS;

/** The status of a code when what was too long is the problem: a key over its limit is 414 (URI
 *  Too Long, the key is in the path), a value over its limit 413 (Content Too Large). */
export const TOO_LONG_STATUS: Partial<Record<ErrorCode, number>> = { bad_key: 414, bad_value: 413 };

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(HTTP_STATUS, code);
}

/** The HTTP status for `code` (its too-long variant when `tooLong`). */
export function httpStatus(code: ErrorCode, tooLong = false): number {
  return (tooLong ? TOO_LONG_STATUS[code] : undefined) ?? HTTP_STATUS[code];
}

/** gRPC status of every way a peer call (raft.Raft/*) is refused. */
export const GRPC_STATUS = {
  malformed: grpc.INVALID_ARGUMENT,
  rejected: grpc.INVALID_ARGUMENT,
  unauthenticated: grpc.UNAUTHENTICATED,
  wrong_sender: grpc.PERMISSION_DENIED,
  wrong_cluster: grpc.FAILED_PRECONDITION,
  wrong_node: grpc.FAILED_PRECONDITION,
  link_cut: grpc.UNAVAILABLE,
  reply_dropped: grpc.UNAVAILABLE,
  shutting_down: grpc.UNAVAILABLE,
  no_reply: grpc.DEADLINE_EXCEEDED,
  not_served: grpc.UNIMPLEMENTED,
  internal: grpc.INTERNAL,
} as const satisfies Record<string, grpc>;

export type RpcErrorCode = keyof typeof GRPC_STATUS;

export class ClientError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
    /** The request failed because something in it was too long (TOO_LONG_STATUS). */
    tooLong = false,
  ) {
    super(message);
    this.status = httpStatus(code, tooLong);
  }
}

export const noLeader = (id: string) =>
  new ClientError(
    'no_leader',
    `${id} knows of no leader right now (an election is probably under way); retry in a moment`,
  );

export const notLeader = (id: string, leader: string | null) =>
  new ClientError('not_leader', `${id} is not the leader${leader ? `; the leader is ${leader}` : ''}`, { leader });

export const outcomeUnknown = (why: string) =>
  new ClientError(
    'outcome_unknown',
    `${why}. The write may or may not have been applied: read the key before retrying, or retry with an Idempotency-Key`,
  );

export const notCommitted = (why: string) =>
  new ClientError('not_committed', `${why}. The write was not applied; it is safe to retry`);

export const readFailed = (why: string) => new ClientError('read_unavailable', `${why}; retry in a moment`);

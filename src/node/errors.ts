// The ways a client request can fail, each with the HTTP status and error code the API answers
// with. "Unknown outcome" is its own kind: the client must not assume the write failed.

export class ClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const noLeader = (id: string) =>
  new ClientError(
    503,
    'no_leader',
    `${id} knows of no leader right now (an election is probably under way); retry in a moment`,
  );

export const notLeader = (id: string, leader: string | null) =>
  new ClientError(503, 'not_leader', `${id} is not the leader${leader ? `; the leader is ${leader}` : ''}`, { leader });

export const outcomeUnknown = (why: string) =>
  new ClientError(
    504,
    'outcome_unknown',
    `${why}. The write may or may not have been applied: read the key before retrying, or retry with an Idempotency-Key`,
  );

export const notCommitted = (why: string) =>
  new ClientError(503, 'not_committed', `${why}. The write was not applied; it is safe to retry`);

export const readFailed = (why: string) => new ClientError(503, 'read_unavailable', `${why}; retry in a moment`);

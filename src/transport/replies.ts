// Which call a reply of the core answers. The core knows nothing of calls: its messages are
// one-way. It does promise (types.ts, "Replies") that every RequestVote, AppendEntries and
// InstallSnapshot it accepts is answered by exactly one reply to its sender, in the order it
// accepted them, and that a refused one is answered by none. A server (the gRPC server of a node,
// the simulator's network) therefore queues each accepted call per peer and RPC, and gives each
// reply the oldest call still waiting for it. ReadIndex replies carry the request's own id and
// TimeoutNow has no reply: neither goes through here.
import type { Message, NodeId } from '../raft/types.js';

const REPLY_TO = {
  RequestVote: 'RequestVoteResponse',
  AppendEntries: 'AppendEntriesResponse',
  InstallSnapshot: 'InstallSnapshotResponse',
} as const;

type Answered = keyof typeof REPLY_TO;

const answeredKinds = new Set<string>(Object.keys(REPLY_TO));
const replyKinds = new Set<string>(Object.values(REPLY_TO));

/** True for the requests whose replies are matched here. */
export function isMatchedRequest(m: Message): boolean {
  return answeredKinds.has(m.type);
}

/** True for the replies matched here. */
export function isMatchedReply(m: Message): boolean {
  return replyKinds.has(m.type);
}

const queueKey = (peer: NodeId, reply: string) => `${peer}\u0000${reply}`;

export class ReplyMatcher<C> {
  private queues = new Map<string, C[]>();

  /** The core accepted `request` (its step returned no refusal): `call` waits for its reply. */
  accepted(request: Message, call: C): void {
    if (!isMatchedRequest(request)) return;
    const key = queueKey(request.from, REPLY_TO[request.type as Answered]);
    const queue = this.queues.get(key);
    if (queue) queue.push(call);
    else this.queues.set(key, [call]);
  }

  /** The call `reply` answers; undefined when it is not a matched reply or no call waits for it. */
  answered(reply: Message): C | undefined {
    if (!isMatchedReply(reply)) return undefined;
    const key = queueKey(reply.to, reply.type);
    const queue = this.queues.get(key);
    const call = queue?.shift();
    if (queue?.length === 0) this.queues.delete(key);
    return call;
  }

  /** How many calls wait for a reply. */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Forgets every waiting call (the core that would answer them is gone). */
  clear(): void {
    this.queues.clear();
  }
}

/** Why `reply` cannot be the answer to `request`, or null when its echoed fields agree: a check
 *  that the pairing above holds (the simulator applies it to every reply). Compared with
 *  Object.is, so an echoed NaN (a corrupted request the core took) still agrees with itself. */
export function mismatch(request: Message, reply: Message): string | null {
  if (reply.from !== request.to || reply.to !== request.from) return 'sender and receiver are not swapped';
  switch (request.type) {
    case 'RequestVote':
      if (reply.type !== 'RequestVoteResponse') break;
      return Object.is(reply.candidateTerm, request.term) && Object.is(reply.preVote, request.preVote)
        ? null
        : 'candidateTerm or preVote differ';
    case 'AppendEntries':
      if (reply.type !== 'AppendEntriesResponse') break;
      return Object.is(reply.seq, request.seq) && Object.is(reply.heartbeat, request.heartbeat)
        ? null
        : 'seq or heartbeat differ';
    case 'InstallSnapshot':
      if (reply.type !== 'InstallSnapshotResponse') break;
      return Object.is(reply.seq, request.seq) ? null : 'seq differs';
    default:
      break;
  }
  return `${reply.type} does not answer ${request.type}`;
}

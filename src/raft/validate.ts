// Messages come from the network, so the core checks their shape before trusting any field:
// a term or index that makes no sense is rejected (and reported), never acted upon and never a
// crash. Checks that need the receiver's state (is the sender a member? does a match index lie
// beyond our log?) live in raft.ts, next to the rule they protect.
import type { Entry, Message } from './types.js';

const MESSAGE_TYPES = new Set([
  'RequestVote',
  'RequestVoteResponse',
  'AppendEntries',
  'AppendEntriesResponse',
  'InstallSnapshot',
  'InstallSnapshotResponse',
  'TimeoutNow',
  'ReadIndex',
  'ReadIndexResponse',
]);
const ENTRY_TYPES = new Set(['normal', 'noop', 'config']);

/** The largest term or index a message may carry. The core adds one to terms and indexes it
 *  receives (a candidate's term, the next index), so they must stay exact JavaScript integers after
 *  that: a peer that sent Number.MAX_SAFE_INTEGER would leave every node unable to campaign at the
 *  next term, for good (the term is durable). 2^52 is beyond any real cluster's reach (a thousand
 *  elections a second for 140,000 years) and leaves room for every increment. */
export const MAX_TERM_OR_INDEX = 2 ** 52;

function isIndex(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= MAX_TERM_OR_INDEX;
}

function entriesProblem(m: {
  term: number;
  prevLogIndex: number;
  prevLogTerm: number;
  entries: unknown;
}): string | null {
  if (!Array.isArray(m.entries)) return 'entries is not a list';
  let lastTerm = m.prevLogTerm;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i] as Entry;
    if (!e || typeof e !== 'object') return `entry ${i} is not an object`;
    if (e.index !== m.prevLogIndex + 1 + i)
      return `entry ${i} has index ${e.index}, expected ${m.prevLogIndex + 1 + i}`;
    if (!isIndex(e.term) || e.term < lastTerm || e.term > m.term) {
      return `entry ${e.index} has term ${e.term}: terms must not decrease along the log nor exceed the leader's term ${m.term}`;
    }
    if (!ENTRY_TYPES.has(e.type)) return `entry ${e.index} has unknown type ${String(e.type)}`;
    if (typeof e.data !== 'string' || typeof e.context !== 'string')
      return `entry ${e.index} has non-string data or context`;
    lastTerm = e.term;
  }
  return null;
}

/** Returns why a message is malformed, or null when its shape is sound. */
export function messageProblem(m: Message): string | null {
  if (!m || typeof m !== 'object') return 'not an object';
  if (!MESSAGE_TYPES.has(m.type)) return `unknown message type ${String((m as { type?: unknown }).type)}`;
  if (typeof m.from !== 'string' || m.from === '') return 'missing sender';
  if (!isIndex(m.term)) return `invalid term ${String(m.term)}`;
  switch (m.type) {
    case 'RequestVote':
      if (!isIndex(m.lastLogIndex) || !isIndex(m.lastLogTerm)) return 'invalid last log index or term';
      if (m.lastLogTerm > m.term) return `last log term ${m.lastLogTerm} is newer than the election term ${m.term}`;
      if (m.term === 0) return 'an election for term 0';
      return null;
    case 'RequestVoteResponse':
      if (typeof m.granted !== 'boolean' || !isIndex(m.candidateTerm)) return 'invalid vote response';
      return null;
    case 'AppendEntries':
      if (!isIndex(m.prevLogIndex) || !isIndex(m.prevLogTerm) || !isIndex(m.leaderCommit) || !isIndex(m.seq)) {
        return 'invalid prevLogIndex, prevLogTerm, leaderCommit or seq';
      }
      if (m.prevLogTerm > m.term) return `prevLogTerm ${m.prevLogTerm} is newer than the leader's term ${m.term}`;
      if ((m.prevLogIndex === 0) !== (m.prevLogTerm === 0))
        return 'prevLogIndex and prevLogTerm must both be 0 or both be set';
      return entriesProblem(m);
    case 'AppendEntriesResponse':
      if (
        !isIndex(m.matchIndex) ||
        !isIndex(m.rejectedIndex) ||
        !isIndex(m.conflictIndex) ||
        !isIndex(m.conflictTerm) ||
        !isIndex(m.seq)
      ) {
        return 'invalid indexes in append response';
      }
      return null;
    case 'InstallSnapshot': {
      const s = m.snapshot;
      if (!s || !isIndex(s.index) || !isIndex(s.term) || s.index === 0 || s.term === 0)
        return 'invalid snapshot metadata';
      if (s.term > m.term) return `snapshot term ${s.term} is newer than the leader's term ${m.term}`;
      if (!s.conf || !Array.isArray(s.conf.voters) || !Array.isArray(s.conf.learners) || s.conf.voters.length === 0) {
        return 'snapshot has no membership';
      }
      if (typeof s.data !== 'string') return 'snapshot data is not a string';
      return null;
    }
    case 'InstallSnapshotResponse':
      return isIndex(m.matchIndex) ? null : 'invalid match index';
    case 'TimeoutNow':
      return null;
    case 'ReadIndex':
      return typeof m.requestId === 'string' ? null : 'invalid read request id';
    case 'ReadIndexResponse':
      return typeof m.requestId === 'string' && (m.index === -1 || isIndex(m.index)) ? null : 'invalid read response';
  }
}

// Pairing the core's replies with the calls they answer, now that messages carry no call id: the
// oldest accepted call of the same peer and RPC gets each reply, a call that timed out keeps its
// place (so later replies are not shifted onto the wrong call), and a reply's echoed fields say
// whether the pairing is right. The simulator applies the same matcher and check to every reply of
// every safety seed (test/raft/safety.test.ts), where a wrong pairing fails the seed.
import { describe, expect, it } from 'vitest';
import type { AppendEntries, AppendEntriesResponse, Message, RequestVote } from '../../src/raft/types.js';
import { mismatch, ReplyMatcher } from '../../src/transport/replies.js';

const append = (from: string, seq: number): AppendEntries => ({
  type: 'AppendEntries',
  clusterId: 'c',
  from,
  to: 'n2',
  term: 1,
  prevLogIndex: 0,
  prevLogTerm: 0,
  entries: [],
  leaderCommit: 0,
  seq,
  heartbeat: true,
});
const appendReply = (to: string, seq: number): AppendEntriesResponse => ({
  type: 'AppendEntriesResponse',
  clusterId: 'c',
  from: 'n2',
  to,
  term: 1,
  success: true,
  matchIndex: 0,
  rejectedIndex: 0,
  conflictIndex: 0,
  conflictTerm: 0,
  lastLogIndex: 0,
  seq,
  heartbeat: true,
});
const vote: RequestVote = {
  type: 'RequestVote',
  clusterId: 'c',
  from: 'n1',
  to: 'n2',
  term: 3,
  lastLogIndex: 0,
  lastLogTerm: 0,
  preVote: false,
  transfer: false,
};

describe('reply matching', () => {
  it('gives each reply the oldest call of its peer and RPC', () => {
    const m = new ReplyMatcher<string>();
    m.accepted(append('n1', 1), 'a1');
    m.accepted(vote, 'v1');
    m.accepted(append('n3', 1), 'b1');
    m.accepted(append('n1', 2), 'a2');
    expect(m.waiting).toBe(4);
    expect(m.answered(appendReply('n1', 1))).toBe('a1');
    expect(m.answered(appendReply('n3', 1))).toBe('b1');
    expect(m.answered(appendReply('n1', 2))).toBe('a2');
    expect(m.answered(appendReply('n1', 3))).toBeUndefined();
    expect(m.waiting).toBe(1);
    m.clear();
    expect(m.waiting).toBe(0);
  });

  it('does not queue what it does not match: ReadIndex and TimeoutNow', () => {
    const m = new ReplyMatcher<string>();
    const timeoutNow: Message = { type: 'TimeoutNow', clusterId: 'c', from: 'n1', to: 'n2', term: 1 };
    m.accepted(timeoutNow, 't');
    m.accepted({ type: 'ReadIndex', clusterId: 'c', from: 'n1', to: 'n2', term: 1, requestId: 'r' }, 'r');
    expect(m.waiting).toBe(0);
  });

  it('checks a pairing on the fields the core echoes', () => {
    expect(mismatch(append('n1', 4), appendReply('n1', 4))).toBeNull();
    expect(mismatch(append('n1', 4), appendReply('n1', 5))).toMatch(/seq/);
    expect(mismatch(append('n1', 4), appendReply('n3', 4))).toMatch(/swapped/);
    expect(mismatch(vote, appendReply('n1', 4))).toMatch(/does not answer RequestVote/);
    const nan = { ...append('n1', 4), seq: NaN };
    expect(mismatch(nan, { ...appendReply('n1', 4), seq: NaN })).toBeNull();
  });
});

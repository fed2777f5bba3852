// The Ready driver both runtimes use: the order it carries out (persist, send, apply), the two
// liberties when switched on, one Ready at a time, and a failed persist stopping it.
import { describe, expect, it } from 'vitest';
import { ALL_LIBERTIES, NO_LIBERTIES, ReadyDriver, type ReadyIO, type ReadyLiberties } from '../../src/raft/driver.js';
import { readyWith, type Entry, type Message, type Ready } from '../../src/raft/types.js';

const env = { clusterId: 'c', from: 'n1', term: 2 };
const append: Message = {
  ...env,
  to: 'n2',
  type: 'AppendEntries',
  prevLogIndex: 4,
  prevLogTerm: 2,
  entries: [],
  leaderCommit: 4,
  seq: 1,
  heartbeat: false,
};
const voteReply: Message = {
  ...env,
  to: 'n3',
  type: 'RequestVoteResponse',
  granted: true,
  preVote: false,
  candidateTerm: 2,
  reason: null,
};
const entry = (index: number): Entry => ({ index, term: 2, type: 'normal', data: `e${index}`, context: '' });

/** Runs `readys` through a driver whose persist completes only when the test says so. */
function harness(readys: Ready[], liberties: ReadyLiberties, durableIndex: number) {
  const events: string[] = [];
  const pending: ((e?: Error) => void)[] = [];
  const queue = [...readys];
  const io: ReadyIO = {
    observe: (o) => events.push(`observe ${o.type}`),
    persist: (rd, done) => {
      events.push(`persist ${rd.entries.map((e) => e.index).join(',')}`);
      pending.push(done);
    },
    restore: () => events.push('restore'),
    send: (m) => events.push(`send ${m.type}`),
    apply: (e) => events.push(`apply ${e.index}`),
    readState: (rs) => events.push(`read ${rs.requestId}`),
    handled: () => events.push('handled'),
    fail: (e) => events.push(`fail ${e.message}`),
  };
  const driver = new ReadyDriver(
    { hasReady: () => queue.length > 0, ready: () => queue.shift()! },
    io,
    liberties,
    durableIndex,
  );
  return { driver, events, complete: (e?: Error) => pending.shift()!(e) };
}

const leaderReady = readyWith({
  observations: [{ type: 'commit_advanced', term: 2, from: 3, to: 6 }],
  entries: [entry(6)],
  mustSync: true,
  messages: [voteReply, append],
  committedEntries: [entry(4), entry(5), entry(6)],
  readStates: [{ requestId: 'r1', index: 6, error: null }],
});

describe('the Ready driver', () => {
  it('without liberties sends and applies nothing before the persist completes', () => {
    const h = harness([leaderReady], NO_LIBERTIES, 5);
    h.driver.run();
    expect(h.events).toEqual(['observe commit_advanced', 'persist 6']);
    expect(h.driver.busy).toBe(true);
    h.complete();
    expect(h.events.slice(2)).toEqual([
      'send RequestVoteResponse',
      'send AppendEntries',
      'apply 4',
      'apply 5',
      'apply 6',
      'read r1',
      'handled',
    ]);
    expect(h.driver.durableIndex).toBe(6);
  });

  it("with the node's liberties sends appends and applies durable entries before the fsync, and nothing else", () => {
    const h = harness([leaderReady], ALL_LIBERTIES, 5);
    h.driver.run();
    expect(h.events).toEqual(['observe commit_advanced', 'send AppendEntries', 'apply 4', 'apply 5', 'persist 6']);
    h.complete();
    expect(h.events.slice(5)).toEqual(['send RequestVoteResponse', 'apply 6', 'read r1', 'handled']);
  });

  it('takes the next Ready only once the previous one is persisted', () => {
    const second = readyWith({ entries: [entry(7)], mustSync: true, committedEntries: [entry(7)] });
    const h = harness([readyWith({ entries: [entry(6)], mustSync: true }), second], ALL_LIBERTIES, 5);
    h.driver.run();
    h.driver.run(); // a message arrived meanwhile: still waiting
    expect(h.events).toEqual(['persist 6']);
    h.complete();
    expect(h.events).toEqual(['persist 6', 'handled', 'persist 7']);
    h.complete();
    expect(h.events.slice(3)).toEqual(['apply 7', 'handled']);
  });

  it('stops at a failed persist: nothing of that Ready is sent or applied', () => {
    const h = harness([leaderReady, readyWith({ entries: [entry(7)], mustSync: true })], NO_LIBERTIES, 5);
    h.driver.run();
    h.complete(new Error('disk full'));
    expect(h.events).toEqual(['observe commit_advanced', 'persist 6', 'fail disk full']);
    h.driver.run();
    expect(h.events).toHaveLength(3);
  });
});

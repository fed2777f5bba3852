// Messages come from the network: the core must reject nonsense, report why, and never crash or
// change its state because of it.
import { describe, expect, it } from 'vitest';
import { Raft } from '../../src/raft/raft.js';
import type { Message, RaftConfig } from '../../src/raft/types.js';
import { Rng } from '../../src/sim/rng.js';
import { awaitLeader, cluster, commitWrite, expectConverged } from './helpers.js';

function follower(): Raft {
  const cfg: RaftConfig = {
    id: 'n2',
    clusterId: 'c1',
    electionTick: 10,
    heartbeatTick: 1,
    preVote: true,
    checkQuorum: true,
    maxInflight: 4,
    maxEntriesPerAppend: 16,
    learnerCatchUpMargin: 0,
    random: new Rng(1).next.bind(new Rng(1)),
  };
  return new Raft(cfg, {
    hardState: { term: 3, votedFor: null, commit: 0 },
    snapshot: null,
    entries: [],
    bootstrapConf: { voters: ['n1', 'n2', 'n3'], learners: [] },
  });
}

const heartbeat = (over: Record<string, unknown> = {}): Message =>
  ({
    type: 'AppendEntries',
    clusterId: 'c1',
    from: 'n1',
    to: 'n2',
    term: 3,
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [],
    leaderCommit: 0,
    seq: 1,
    heartbeat: true,
    ...over,
  }) as unknown as Message;

const entry = (index: number, term: number) => ({ index, term, type: 'normal', data: 'x', context: '' });

describe('invalid messages', () => {
  const cases: [string, Message, RegExp][] = [
    ['wrong cluster', heartbeat({ clusterId: 'other' }), /wrong cluster/],
    [
      'a vote request from an unknown sender',
      {
        type: 'RequestVote',
        clusterId: 'c1',
        from: 'n9',
        to: 'n2',
        term: 4,
        lastLogIndex: 9,
        lastLogTerm: 3,
        preVote: false,
        transfer: false,
      },
      /unknown sender n9/,
    ],
    ['an append from an unknown sender with a stale term', heartbeat({ from: 'n9', term: 2 }), /unknown sender n9/],
    ['wrong recipient', heartbeat({ to: 'n3' }), /addressed to n3/],
    ['negative term', heartbeat({ term: -1 }), /invalid term/],
    ['fractional term', heartbeat({ term: 1.5 }), /invalid term/],
    ['NaN term', heartbeat({ term: NaN }), /invalid term/],
    ['huge index', heartbeat({ prevLogIndex: 2 ** 60, prevLogTerm: 1 }), /invalid prevLogIndex/],
    ['prevLogTerm beyond term', heartbeat({ prevLogIndex: 1, prevLogTerm: 9 }), /newer than the leader's term/],
    ['gap in entries', heartbeat({ entries: [entry(1, 3), entry(3, 3)] }), /expected 2/],
    ['entry term beyond message term', heartbeat({ entries: [entry(1, 7)] }), /must not decrease.*nor exceed/],
    ['decreasing entry terms', heartbeat({ entries: [entry(1, 3), entry(2, 2)] }), /must not decrease/],
    ['entries not a list', heartbeat({ entries: 'nope' }), /not a list/],
    ['unknown type', { ...heartbeat(), type: 'Bogus' } as unknown as Message, /unknown message type/],
    [
      'vote with last term beyond its term',
      {
        type: 'RequestVote',
        clusterId: 'c1',
        from: 'n1',
        to: 'n2',
        term: 4,
        lastLogIndex: 1,
        lastLogTerm: 5,
        preVote: false,
        transfer: false,
      },
      /newer than the election term/,
    ],
    [
      'snapshot without members',
      {
        type: 'InstallSnapshot',
        clusterId: 'c1',
        from: 'n1',
        to: 'n2',
        term: 3,
        seq: 0,
        snapshot: { index: 5, term: 3, conf: { voters: [], learners: [] }, data: '' },
      },
      /no membership/,
    ],
  ];

  for (const [name, msg, reason] of cases) {
    it(`rejects ${name} and reports why`, () => {
      const r = follower();
      const before = JSON.stringify(r.status());
      expect(() => r.step(msg)).not.toThrow();
      const rd = r.ready();
      expect(rd.messages).toEqual([]);
      const rejected = rd.observations.filter((o) => o.type === 'message_rejected');
      expect(rejected).toHaveLength(1);
      expect(rejected[0].type === 'message_rejected' && rejected[0].reason).toMatch(reason);
      expect(JSON.stringify(r.status())).toBe(before);
    });
  }

  it('hears a leader it does not know yet (added while this node was behind)', () => {
    const r = follower();
    expect(r.step(heartbeat({ from: 'n6', term: 4, entries: [entry(1, 4)] }))).toBeNull();
    expect(r.leader).toBe('n6');
    expect(r.ready().messages[0]).toMatchObject({ type: 'AppendEntriesResponse', to: 'n6', success: true });
  });

  it('never crashes on garbage', () => {
    const r = follower();
    for (const junk of [null, undefined, 42, 'x', [], {}, { type: 'AppendEntries' }]) {
      expect(() => r.step(junk as unknown as Message)).not.toThrow();
    }
    expect(r.ready().observations.filter((o) => o.type === 'message_rejected')).toHaveLength(7);
  });

  it('accepts the same message once it is well formed', () => {
    const r = follower();
    r.step(heartbeat({ entries: [entry(1, 3)] }));
    const rd = r.ready();
    expect(rd.entries).toHaveLength(1);
    expect(rd.messages[0]).toMatchObject({ type: 'AppendEntriesResponse', success: true, matchIndex: 1 });
  });

  it('stays safe and live when a fifth of all messages arrive corrupted', () => {
    const c = cluster({ seed: 91, nodes: 3 });
    const rng = new Rng(91);
    const corrupt = (m: Message): Message => {
      if (!rng.chance(0.2)) return m;
      const bad: Record<string, unknown> = { ...m };
      const field = rng.pick(Object.keys(bad).filter((k) => k !== 'type'));
      bad[field] = rng.pick([-1, NaN, 'junk', null, 2 ** 60, 1.5, {}]);
      return bad as unknown as Message;
    };
    c.net.intercept = corrupt;
    awaitLeader(c);
    for (let i = 0; i < 20; i++) {
      const w = c.write('k', `${i}`);
      c.runUntil(() => !!w && w.status !== 'pending', 1500);
    }
    c.net.intercept = null;
    commitWrite(c, 'k', 'clean');
    expectConverged(c);
    expect(c.observed.filter((o) => o.obs.type === 'message_rejected').length).toBeGreaterThan(10);
  });
});

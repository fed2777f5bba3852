// deferCommitNotify (issue 14): a leader holds a new commit index back until its next append or its
// next tick, instead of sending every follower an empty AppendEntries for it at once (one round
// trip per write fewer). Followers still learn it: with the next write's append, or a tick later.
import { describe, expect, it } from 'vitest';
import { Raft } from '../../src/raft/raft.js';
import type { AppendEntries, Message } from '../../src/raft/types.js';
import { Rng } from '../../src/sim/rng.js';

const SEED = 14;

function cluster(defer: boolean): Map<string, Raft> {
  const ids = ['n1', 'n2', 'n3'];
  return new Map(
    ids.map((id, i) => {
      const rng = new Rng(SEED + i);
      const raft = new Raft(
        {
          id,
          clusterId: 'c1',
          electionTick: 200,
          heartbeatTick: 100, // no heartbeats in these tests: only what a commit causes is counted
          preVote: true,
          checkQuorum: false,
          maxInflight: 8,
          maxEntriesPerAppend: 64,
          learnerCatchUpMargin: 0,
          deferCommitNotify: defer,
          random: () => rng.next(),
        },
        {
          hardState: { term: 0, votedFor: null, commit: 0 },
          snapshot: null,
          entries: [],
          bootstrapConf: { voters: ids, learners: [] },
        },
      );
      return [id, raft];
    }),
  );
}

/** Delivers every message until no node has work left; returns the messages sent. */
function pump(nodes: Map<string, Raft>): Message[] {
  const sent: Message[] = [];
  for (let round = 0; round < 1000; round++) {
    const busy = [...nodes.values()].filter((r) => r.hasReady());
    if (!busy.length) return sent;
    for (const r of busy) {
      for (const m of r.ready().messages) {
        sent.push(m);
        nodes.get(m.to)?.step(m);
      }
    }
  }
  throw new Error(`the nodes did not go quiet within 1000 rounds (seed ${SEED})`);
}

/** n1 campaigns (only it is ticked) and wins. */
function elect(nodes: Map<string, Raft>): Raft {
  const n1 = nodes.get('n1')!;
  for (let t = 0; t < 1000 && n1.role !== 'leader'; t++) {
    n1.tick();
    pump(nodes);
  }
  expect(n1.role, `n1 did not win an election (seed ${SEED})`).toBe('leader');
  return n1;
}

const commitNotices = (sent: Message[]) =>
  sent.filter(
    (m): m is AppendEntries => m.type === 'AppendEntries' && m.from === 'n1' && !m.heartbeat && !m.entries.length,
  );
const commitOf = (nodes: Map<string, Raft>, id: string) => nodes.get(id)!.status().commitIndex;

describe('commit notification', () => {
  it('without deferCommitNotify, followers get an empty append for each new commit index at once', () => {
    const nodes = cluster(false);
    const leader = elect(nodes);
    expect(leader.propose('{"op":"put"}').ok).toBe(true);
    const sent = pump(nodes);
    expect(
      commitNotices(sent)
        .map((m) => m.to)
        .sort(),
    ).toEqual(['n2', 'n3']);
    expect(commitOf(nodes, 'n2')).toBe(commitOf(nodes, 'n1'));
  });

  it('with deferCommitNotify, the commit index rides on the next append, or goes out at the next tick', () => {
    const nodes = cluster(true);
    const leader = elect(nodes);
    pump(nodes);
    leader.tick(); // whatever the election committed (its no-op) reaches the followers now
    pump(nodes);
    expect(leader.propose('{"op":"put","n":1}').ok).toBe(true);
    const first = pump(nodes);
    const committed = commitOf(nodes, 'n1');
    expect(committed).toBe(leader.status().lastLogIndex);
    // No empty append was sent for the commit: the followers do not know it yet.
    expect(commitNotices(first)).toEqual([]);
    expect(commitOf(nodes, 'n2')).toBeLessThan(committed);

    // The next write's append carries it.
    expect(leader.propose('{"op":"put","n":2}').ok).toBe(true);
    const second = pump(nodes);
    const appends = second.filter((m): m is AppendEntries => m.type === 'AppendEntries' && m.entries.length > 0);
    expect(appends.map((m) => m.leaderCommit)).toEqual([committed, committed]);
    expect(commitOf(nodes, 'n2')).toBeGreaterThanOrEqual(committed);

    // With no write after it, the next tick sends it: followers are at most a tick behind.
    const latest = commitOf(nodes, 'n1');
    expect(commitOf(nodes, 'n3')).toBeLessThan(latest);
    leader.tick();
    const ticked = pump(nodes);
    expect(
      commitNotices(ticked)
        .map((m) => m.to)
        .sort(),
    ).toEqual(['n2', 'n3']);
    expect(commitOf(nodes, 'n2')).toBe(latest);
    expect(commitOf(nodes, 'n3')).toBe(latest);
    // And then nothing more is pending: a quiet leader sends nothing at the following tick.
    leader.tick();
    expect(commitNotices(pump(nodes))).toEqual([]);
  });
});

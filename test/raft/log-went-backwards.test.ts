// A follower whose log went backwards: it had acknowledged entries, then lost them (a disk that
// lied about fsync, a data directory restored from a backup). The leader must notice from the
// follower's rejections and send the entries again, not treat those rejections as stale forever.
import { describe, expect, it } from 'vitest';
import { SimDisk } from '../../src/sim/disk.js';
import { awaitLeader, cluster, commitWrite, followersOf, observations } from './helpers.js';

describe('a follower whose log went backwards', () => {
  it('is caught up again by the leader that still believes its old match index', () => {
    const seed = 7;
    const c = cluster({ seed, nodes: 3 });
    const leader = awaitLeader(c);
    const [f] = followersOf(c, leader);
    for (let i = 0; i < 5; i++) commitWrite(c, `early${i}`, 'v');
    // Snapshot of the follower's disk as it is now: this is the "backup".
    c.crash(f);
    const backup = c.node(f).disk.load({ voters: c.ids(), learners: [] });
    c.restart(f);
    for (let i = 0; i < 20; i++) commitWrite(c, `late${i}`, 'v');
    c.runUntil(() => c.raft(leader).status().progress[f].match === c.raft(leader).log.lastIndex(), 2000);
    const matchBefore = c.raft(leader).status().progress[f].match;
    expect(matchBefore, `seed ${seed}: the follower had caught up before losing its tail`).toBe(
      c.raft(leader).log.lastIndex(),
    );

    // The follower comes back with the old disk: its log is 20+ entries shorter than its match index.
    c.crash(f);
    c.node(f).disk = new SimDisk();
    c.preloadDisk(f, backup.hardState, backup.entries);
    c.restart(f);
    expect(c.raft(f).log.lastIndex()).toBeLessThan(matchBefore);

    // No new writes: heartbeats alone must reveal the gap and bring the follower back.
    const last = c.raft(leader).log.lastIndex();
    const caughtUp = c.runUntil(
      () => c.raft(f).log.lastIndex() === last && c.raft(leader).status().progress[f].match === last,
      3000,
    );
    expect(
      caughtUp,
      `seed ${seed}: ${f} stayed at ${c.raft(f).log.lastIndex()}, leader at ${c.raft(leader).log.lastIndex()}`,
    ).toBe(true);
    expect(c.raft(leader).status().progress[f].match).toBe(c.raft(leader).log.lastIndex());
    expect(observations(c, 'follower_backtracked', leader).length).toBeGreaterThan(0);
  });
});

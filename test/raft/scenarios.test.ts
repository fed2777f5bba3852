// The classic Raft scenarios, each run in the deterministic simulator and each asserting exactly
// what it claims. Virtual time: one tick is 10 ms, an election timeout 100-200 ms, a heartbeat
// every 20 ms (the simulator's defaults).
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/raft/types.js';
import {
  awaitLeader,
  cluster,
  commitWrite,
  expectConverged,
  followersOf,
  observations,
  writeWithRetries,
} from './helpers.js';

const ELECTION_MS = 100; // electionTick (10) x tickMs (10)

describe('elections', () => {
  it('elects a leader within bounded time and keeps a stable term without faults', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const c = cluster({ seed, nodes: 3 });
      const leader = awaitLeader(c, 5 * ELECTION_MS);
      const term = c.raft(leader).term;
      c.runFor(5000);
      expect(c.leader()).toBe(leader);
      for (const id of c.ids()) expect(c.raft(id).term).toBe(term);
      expect(observations(c, 'became_leader')).toHaveLength(1);
    }
  });

  it('re-elects when the leader is cut off, and a minority never has a leader', () => {
    const c = cluster({ seed: 11, nodes: 5 });
    const old = awaitLeader(c);
    const oldTerm = c.raft(old).term;
    c.isolate(old);
    const next = awaitLeader(c, 3000, followersOf(c, old));
    expect(c.raft(next).term).toBeGreaterThan(oldTerm);

    // Now split 2 | 3 with the new leader in the minority.
    const minority = [next, old];
    const majority = c.ids().filter((id) => !minority.includes(id));
    c.partition([minority, majority]);
    c.runFor(2000);
    for (const id of minority) expect(c.raft(id).role).not.toBe('leader'); // CheckQuorum made it step down
    const l = c.leader();
    expect(l !== null && majority.includes(l)).toBe(true);
    commitWrite(c, 'k', 'v'); // the majority side makes progress
  });

  it('survives many elections with random minorities cut off', () => {
    const c = cluster({ seed: 12, nodes: 5 });
    awaitLeader(c);
    for (let round = 0; round < 12; round++) {
      const ids = [...c.ids()].sort(() => c.rng.next() - 0.5);
      const minority = ids.slice(0, c.rng.int(1, 2));
      const majority = ids.slice(minority.length);
      c.partition([minority, majority]);
      const leader = awaitLeader(c, 3000, majority);
      commitWrite(c, `k${round}`, `v${round}`);
      expect(majority).toContain(leader);
      c.heal();
      c.runFor(200);
    }
    expectConverged(c);
  });
});

describe('replication and agreement', () => {
  it('agrees with one follower down, and commits nothing without a quorum', () => {
    const c = cluster({ seed: 21, nodes: 3 });
    const leader = awaitLeader(c);
    const [f1, f2] = followersOf(c, leader);
    c.crash(f1);
    for (let i = 0; i < 10; i++) commitWrite(c, 'a', `${i}`);

    c.crash(f2);
    const commit = c.raft(leader).commitIndex;
    const w = c.write('a', 'no-quorum')!;
    c.runFor(2000);
    expect(w.status).toBe('pending');
    expect(c.raft(leader).commitIndex).toBe(commit);

    c.restart(f1);
    c.restart(f2);
    c.runUntil(() => w.status !== 'pending', 3000);
    expectConverged(c);
    expect(c.node(f1).kv.get('a')).toBe(c.node(leader).kv.get('a'));
  });

  it("overwrites a rejoining old leader's uncommitted entries", () => {
    const c = cluster({ seed: 22, nodes: 3 });
    const old = awaitLeader(c);
    commitWrite(c, 'x', 'committed-before');
    c.isolate(old);
    const orphans = [1, 2, 3, 4, 5].map((i) => c.write('x', `orphan-${i}`, old)!);
    const next = awaitLeader(c, 3000, followersOf(c, old));
    for (let i = 0; i < 5; i++) commitWrite(c, 'x', `new-${i}`);
    c.heal();
    expectConverged(c);
    expect(c.raft(old).role).toBe('follower');
    expect(orphans.every((w) => w.status === 'lost' || w.status === 'unknown')).toBe(true);
    expect(observations(c, 'entries_truncated', old).length).toBeGreaterThan(0);
    expect(c.node(old).kv.get('x')).toBe('new-4');
    expect(c.raft(old).log.lastIndex()).toBe(c.raft(next).log.lastIndex());
  });

  it('backs up over 50+ divergent entries per follower in a few round trips', () => {
    const c = cluster({ seed: 23, nodes: 5, maxEntriesPerAppend: 64 });
    const l1 = awaitLeader(c);
    commitWrite(c, 'k', 'start');
    const f1 = followersOf(c, l1)[0];
    const rest = c.ids().filter((id) => id !== l1 && id !== f1);
    c.partition([[l1, f1], rest]);
    // 60 writes in the minority: they reach f1's log but can never commit.
    for (let i = 0; i < 60; i++) c.write('k', `minority-${i}`, l1);
    c.runFor(50);
    expect(c.raft(f1).log.lastIndex()).toBeGreaterThanOrEqual(60);
    awaitLeader(c, 3000, rest);
    for (let i = 0; i < 60; i++) c.write('k', `majority-${i}`);
    c.runFor(500);
    c.heal();
    expectConverged(c);
    const leader = c.leader()!;
    for (const f of [l1, f1]) {
      const backtracks = observations(c, 'follower_backtracked', leader).filter((o) => o.peer === f);
      const rejections = observations(c, 'append_rejected', f).filter((o) => o.leader === leader);
      // One entry at a time would need ~60 round trips; conflict-term hints need a couple.
      expect(backtracks.length).toBeLessThanOrEqual(3);
      expect(rejections.length).toBeLessThanOrEqual(3);
      expect(c.node(f).kv.get('k')).toBe('majority-59');
    }
  });

  it('Figure 8: never commits an entry from an older term by counting replicas', () => {
    // The logs of Figure 8 (c): S1 (leader of term 2) placed entry 2 on S1, S2 and S3, then
    // crashed; S5 won term 3 with votes from S3, S4, S5 and wrote its own entry 2, then crashed.
    const c = cluster({ seed: 8, nodes: 5 });
    for (const id of c.ids()) c.crash(id);
    const e = (index: number, term: number, value: string): Entry => ({
      index,
      term,
      type: 'normal',
      data: JSON.stringify({ id: value, key: 'x', value }),
      context: '',
    });
    const base = e(1, 1, 'base');
    c.preloadDisk('n1', { term: 2, votedFor: 'n1', commit: 1 }, [base, e(2, 2, 'S1-term2')]);
    c.preloadDisk('n2', { term: 2, votedFor: 'n1', commit: 1 }, [base, e(2, 2, 'S1-term2')]);
    c.preloadDisk('n3', { term: 3, votedFor: 'n5', commit: 1 }, [base, e(2, 2, 'S1-term2')]);
    c.preloadDisk('n4', { term: 3, votedFor: 'n5', commit: 1 }, [base]);
    c.preloadDisk('n5', { term: 3, votedFor: 'n5', commit: 1 }, [base, e(2, 3, 'S5-term3')]);

    // A new leader among S1-S3 (all hold entry 2 of term 2) appends its no-op at 3, but only
    // entry 2 gets through: entry 2 sits on a majority, entry 3 on the leader alone.
    c.net.intercept = (m) => (m.type === 'AppendEntries' ? { ...m, entries: m.entries.filter((x) => x.index < 3) } : m);
    for (const id of ['n1', 'n2', 'n3']) c.restart(id);
    const l = awaitLeader(c, 3000, ['n1', 'n2', 'n3']);
    c.runFor(300);
    const lr = c.raft(l);
    expect(lr.term).toBeGreaterThanOrEqual(4);
    const live = ['n1', 'n2', 'n3'].filter((id) => id !== l);
    for (const id of live) expect(lr.status().progress[id].match).toBe(2);
    // Figure 2's "log[N].term == currentTerm": replicated on a majority, yet not committed.
    expect(lr.commitIndex).toBe(1);

    // The leader crashes; S5 comes back and wins (its last term 3 beats term 2).
    c.crash(l);
    c.net.intercept = null;
    const [a, b] = ['n1', 'n2', 'n3'].filter((id) => id !== l);
    c.isolate(a);
    c.restart('n4');
    c.restart('n5');
    awaitLeader(c, 5000, ['n5']);
    c.runFor(300);
    // Figure 8 (d): S5 overwrites entry 2 everywhere it reaches. That is safe only because the
    // term-2 entry was never committed; the checker would have flagged it otherwise.
    expect(c.raft(b).log.term(2)).toBe(3);
    expect(c.checker.committed.get(2)?.term).toBe(3);
  });
});

describe('crashes and persistence', () => {
  it('keeps every acknowledged write across crash and restart of every combination of nodes', () => {
    const c = cluster({ seed: 31, nodes: 3 });
    awaitLeader(c);
    const ids = c.ids();
    let n = 0;
    for (let mask = 1; mask < 1 << ids.length; mask++) {
      const victims = ids.filter((_, i) => mask & (1 << i));
      writeWithRetries(c, 'k', `before-${mask}`);
      for (const id of victims) c.crash(id);
      c.runFor(c.rng.int(0, 300));
      for (const id of victims) c.restart(id);
      writeWithRetries(c, `k${n++}`, `after-${mask}`);
    }
    expectConverged(c);
    for (const id of ids) {
      expect(c.node(id).kv.get('k')).toBe('before-7');
      expect(c.node(id).kv.get(`k${n - 1}`)).toBe('after-7');
    }
  });

  it('agrees over an unreliable network (drops, duplicates, reordering)', () => {
    const c = cluster({ seed: 32, nodes: 5 });
    awaitLeader(c);
    c.setNetwork({ dropRate: 0.2, duplicateRate: 0.1, minDelayMs: 1, maxDelayMs: 40 });
    for (let i = 0; i < 30; i++) writeWithRetries(c, 'k', `${i}`);
    c.setNetwork({});
    expectConverged(c);
    for (const id of c.ids()) expect(c.node(id).kv.get('k')).toBe('29');
  });

  it('churn: every value a client saw committed is in the final log', () => {
    const c = cluster({ seed: 33, nodes: 5 });
    awaitLeader(c);
    for (let step = 0; step < 60; step++) {
      const id = c.rng.pick(c.ids());
      const roll = c.rng.next();
      if (roll < 0.3) c.crash(id);
      else if (roll < 0.6) c.restart(id);
      else if (roll < 0.75) c.isolate(id);
      else c.heal();
      for (let i = 0; i < 3; i++) c.write(`k${i}`, `s${step}`, c.rng.chance(0.8) ? (c.leader() ?? undefined) : id);
      c.runFor(c.rng.int(20, 150));
    }
    c.heal();
    for (const id of c.ids()) c.restart(id);
    expectConverged(c, 8000);
    const acked = c.writes.filter((w) => w.status === 'acked');
    expect(acked.length).toBeGreaterThan(20);
    for (const w of acked) expect(c.checker.committed.get(w.index)?.data).toBe(JSON.stringify(w.cmd));
  });
});

describe('snapshots', () => {
  it('installs a snapshot on a lagging follower and on a restarted one', () => {
    const c = cluster({ seed: 41, nodes: 3, compactEvery: 10 });
    const leader = awaitLeader(c);
    const [f1] = followersOf(c, leader);
    c.crash(f1);
    for (let i = 0; i < 50; i++) commitWrite(c, `k${i % 5}`, `${i}`);
    expect(c.raft(leader).log.snapshotIndex).toBeGreaterThan(
      c.node(f1).disk.load({ voters: [], learners: [] }).entries.length,
    );
    c.restart(f1);
    expectConverged(c);
    expect(observations(c, 'snapshot_installed', f1).length).toBeGreaterThan(0);
    expect([...c.node(f1).kv.entries()].sort()).toEqual([...c.node(leader).kv.entries()].sort());
  });

  it('recovers every node from its snapshot and log after all crash', () => {
    const c = cluster({ seed: 42, nodes: 3, compactEvery: 7 });
    awaitLeader(c);
    for (let i = 0; i < 40; i++) commitWrite(c, `k${i % 6}`, `${i}`);
    c.runFor(100);
    const before = [...c.node('n1').kv.entries()].sort();
    for (const id of c.ids()) expect(c.raft(id).log.snapshotIndex).toBeGreaterThan(0);
    for (const id of c.ids()) c.crash(id);
    for (const id of c.ids()) c.restart(id);
    // Straight after restart, before any message: the state machine comes from the snapshot plus
    // the committed entries replayed from the local log.
    for (const id of c.ids()) expect(c.node(id).applied).toBeGreaterThanOrEqual(c.raft(id).log.snapshotIndex);
    awaitLeader(c);
    commitWrite(c, 'after', 'restart');
    expectConverged(c);
    for (const id of c.ids()) {
      const kv = new Map(c.node(id).kv);
      kv.delete('after');
      expect([...kv.entries()].sort()).toEqual(before);
    }
  });
});

describe('membership and leadership', () => {
  it('adds a learner, promotes it once caught up, and removes the old leader while clients write', () => {
    const c = cluster({ seed: 51, nodes: 3 });
    const leader = awaitLeader(c);
    let i = 0;
    const writer = () => {
      c.write('w', `${i++}`);
      c.at(10, writer);
    };
    c.at(10, writer);
    c.runFor(300);
    const ackedSince = (t: number) => c.writes.filter((w) => w.status === 'acked' && w.invokedAt >= t).length;

    expect(c.confChange({ type: 'promote', node: 'n4' })).toBe(false); // not a learner yet
    let phase = c.now;
    expect(c.confChange({ type: 'add_learner', node: 'n4' })).toBe(true);
    c.addNode('n4', { voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
    expect(c.runUntil(() => observations(c, 'learner_caught_up').some((o) => o.peer === 'n4'), 3000)).toBe(true);
    expect(ackedSince(phase)).toBeGreaterThan(0);

    phase = c.now;
    expect(c.runUntil(() => c.confChange({ type: 'promote', node: 'n4' }), 2000)).toBe(true);
    expect(c.runUntil(() => c.raft(leader).conf.voters.includes('n4'), 2000)).toBe(true);
    c.runFor(300);
    expect(ackedSince(phase)).toBeGreaterThan(0);

    // Removing the leader itself: it steps down once the change commits; the rest elect anew.
    phase = c.now;
    expect(c.runUntil(() => c.confChange({ type: 'remove', node: leader }), 2000)).toBe(true);
    expect(c.runUntil(() => c.leader() !== null && c.leader() !== leader, 3000)).toBe(true);
    c.runFor(1000);
    expect(ackedSince(phase)).toBeGreaterThan(0);
    const now = c.leader()!;
    expect(c.raft(now).conf.voters.sort()).toEqual(['n1', 'n2', 'n3', 'n4'].filter((x) => x !== leader).sort());
    c.crash(leader); // the removed server can go: the new configuration has its own majority
    const last = commitWrite(c, 'w', 'final');
    for (const id of c.raft(now).conf.voters) {
      expect(
        c.runUntil(() => c.node(id).applied >= last.index, 1000),
        `${id} applies the final write`,
      ).toBe(true);
    }
  });

  it('catches up a learner added to an idle cluster', () => {
    const c = cluster({ seed: 54, nodes: 3 });
    awaitLeader(c);
    for (let i = 0; i < 10; i++) commitWrite(c, 'k', `${i}`);
    c.runFor(500); // idle: no proposals from here on
    expect(c.confChange({ type: 'add_learner', node: 'n4' })).toBe(true);
    // The new server's process comes up only after the change committed, so the leader's first
    // append to it is lost: from then on only heartbeats and probes can reach it.
    c.runFor(300);
    c.addNode('n4', { voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
    expect(c.runUntil(() => observations(c, 'learner_caught_up').some((o) => o.peer === 'n4'), 2000)).toBe(true);
    expect(c.node('n4').kv.get('k')).toBe('9');
  });

  it('allows only one membership change at a time', () => {
    const c = cluster({ seed: 52, nodes: 3 });
    awaitLeader(c);
    commitWrite(c, 'k', 'v');
    expect(c.confChange({ type: 'add_learner', node: 'n4' })).toBe(true);
    expect(c.confChange({ type: 'add_learner', node: 'n5' })).toBe(false);
  });

  it('hands leadership over quickly, even to a follower that must catch up first', () => {
    const c = cluster({ seed: 53, nodes: 3 });
    const leader = awaitLeader(c);
    const [target, lagging] = followersOf(c, leader);
    const term = c.raft(leader).term;
    const t0 = c.now;
    expect(c.transferLeadership(target)).toBe(true);
    c.runUntil(() => c.leader() === target, 1000);
    expect(c.leader()).toBe(target);
    expect(c.now - t0).toBeLessThan(ELECTION_MS); // faster than any election timeout
    expect(c.raft(target).term).toBe(term + 1);
    expect(c.raft(leader).role).toBe('follower');

    c.crash(lagging);
    for (let i = 0; i < 20; i++) commitWrite(c, 'k', `${i}`);
    c.restart(lagging);
    expect(c.transferLeadership(lagging)).toBe(true);
    c.runUntil(() => c.leader() === lagging, 2000);
    expect(c.leader()).toBe(lagging);
    expect(c.node(lagging).kv.get('k')).toBe('19');
  });
});

describe('PreVote and CheckQuorum', () => {
  function rejoiningFollower(preVote: boolean) {
    const c = cluster({ seed: 61, nodes: 3, preVote, checkQuorum: false });
    const leader = awaitLeader(c);
    const term = c.raft(leader).term;
    const f = followersOf(c, leader)[0];
    c.isolate(f);
    c.runFor(3000);
    const isolatedTerm = c.raft(f).term;
    c.heal();
    c.runFor(1000);
    return {
      term,
      isolatedTerm,
      leaderTerm: c.raft(c.leader()!).term,
      deposed: observations(c, 'became_leader').length > 1,
    };
  }

  it('PreVote keeps a rejoining partitioned node from raising the term', () => {
    const r = rejoiningFollower(true);
    expect(r.isolatedTerm).toBe(r.term);
    expect(r.leaderTerm).toBe(r.term);
    expect(r.deposed).toBe(false);
  });

  it('without PreVote the same node disrupts the cluster', () => {
    const r = rejoiningFollower(false);
    expect(r.isolatedTerm).toBeGreaterThan(r.term + 5);
    expect(r.leaderTerm).toBeGreaterThan(r.term);
    expect(r.deposed).toBe(true);
  });

  function cutOffLeader(checkQuorum: boolean) {
    const c = cluster({ seed: 62, nodes: 3, checkQuorum });
    const leader = awaitLeader(c);
    c.isolate(leader);
    c.runFor(5 * ELECTION_MS);
    return { role: c.raft(leader).role, quorumFailures: observations(c, 'check_quorum_failed', leader).length };
  }

  it('CheckQuorum makes a cut-off leader step down', () => {
    const r = cutOffLeader(true);
    expect(r.role).not.toBe('leader');
    expect(r.quorumFailures).toBe(1);
  });

  it('without CheckQuorum a cut-off leader believes it still leads', () => {
    expect(cutOffLeader(false).role).toBe('leader');
  });
});

describe('reads', () => {
  it('ReadIndex reads at the leader and at followers see every acknowledged write', () => {
    const c = cluster({ seed: 71, nodes: 3 });
    const leader = awaitLeader(c);
    commitWrite(c, 'k', 'v1');
    for (const id of c.ids()) {
      const r = c.read('k', id)!;
      c.runUntil(() => r.status === 'done' || r.status === 'failed', 500);
      expect(r.status, `read at ${id}`).toBe('done');
      expect(r.value).toBe('v1');
    }
    // A follower cut off from the leader cannot confirm anything: its read must not succeed.
    const f = followersOf(c, leader)[0];
    c.isolate(f);
    const r = c.read('k', f)!;
    c.runFor(1000);
    expect(r.status).not.toBe('done');
  });

  it('a deposed leader never serves a stale lease read', () => {
    // Leader L is cut off; the others elect L2 and acknowledge a write; L may still believe it
    // leads for a while. A lease read at L must then fall back to a heartbeat round (which cannot
    // succeed) instead of answering from its stale state. The simulator throws on a stale read.
    let exercised = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const c = cluster({ seed, nodes: 3 });
      const old = awaitLeader(c);
      commitWrite(c, 'k', 'old');
      c.isolate(old);
      awaitLeader(c, 2000, followersOf(c, old));
      const w = c.write('k', 'new')!;
      c.runUntil(() => w.status === 'acked', 500);
      if (w.status !== 'acked' || c.raft(old).role !== 'leader') continue;
      exercised++;
      const r = c.read('k', old, true)!;
      c.runFor(500);
      expect(r.status).not.toBe('done');
    }
    expect(exercised).toBeGreaterThan(0);
  });

  it('a lease read is answered at once while the lease holds', () => {
    const c = cluster({ seed: 72, nodes: 3 });
    const leader = awaitLeader(c);
    commitWrite(c, 'k', 'v');
    c.runFor(50);
    expect(c.raft(leader).leaseValid()).toBe(true);
    c.raft(leader).readIndex('lease-1', true);
    const rd = c.raft(leader).ready();
    expect(rd.readStates).toEqual([{ requestId: 'lease-1', index: c.raft(leader).commitIndex, error: null }]);
    expect(rd.messages).toHaveLength(0); // no heartbeat round needed
  });
});

describe('message costs', () => {
  it('sends each entry about once per follower, and an idle second costs only heartbeats', () => {
    const c = cluster({ seed: 81, nodes: 3 });
    awaitLeader(c);
    c.runFor(200);
    c.resetStats();
    for (let i = 0; i < 100; i++) commitWrite(c, 'k', `${i}`);
    expect(c.stats.entriesSent).toBeGreaterThanOrEqual(200);
    expect(c.stats.entriesSent).toBeLessThanOrEqual(220);

    c.runFor(200);
    c.resetStats();
    c.runFor(1000);
    // Heartbeat every 20 ms to each of 2 followers: about 100 in a second, and nothing else.
    expect(c.stats.heartbeats).toBeGreaterThanOrEqual(95);
    expect(c.stats.heartbeats).toBeLessThanOrEqual(105);
    expect(c.stats.byType.AppendEntries).toBe(c.stats.heartbeats);
    expect(c.stats.entriesSent).toBe(0);
    expect(c.stats.byType.RequestVote ?? 0).toBe(0);
  });
});

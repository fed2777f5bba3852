// A follower whose log went backwards to an older copy that still held uncommitted entries of an
// older term: below the end of its shortened log, it holds entries the leader does not have. The
// leader must not take the follower's new end for a match (nothing there was proven in its term):
// it must backtrack until the logs agree, so the follower catches up, and it must never count the
// follower toward a commit of entries the follower does not hold (with five nodes that would
// commit an entry on a minority, and a later leader could lose it).
//
// How the older copy is made, for real and not by hand: a follower is made leader, cut off, and
// given writes that only it stores (uncommitted, of its term); the others elect a newer leader and
// commit different entries at those indexes. A copy of the cut-off node's disk taken then is the
// "older copy". The node rejoins and catches up (its old tail is replaced), and then its log goes
// back to that copy, keeping its term and vote (as a disk that lied about fsync could leave it:
// restoring term and vote too is unsupported, see README "Replacing a damaged server").
import { describe, expect, it } from 'vitest';
import type { SimCluster } from '../../src/sim/cluster.js';
import { SimDisk } from '../../src/sim/disk.js';
import type { InitialState, NodeId } from '../../src/raft/types.js';
import { awaitLeader, cluster, commitWrite, expectConverged, followersOf, writeWithRetries } from './helpers.js';

/** The entries a node stores: its live log, or its disk if it is down. */
function stored(c: SimCluster, id: NodeId): Map<number, number> {
  const terms = new Map<number, number>();
  const n = c.node(id);
  if (n.raft) {
    for (let i = n.raft.log.firstIndex(); i <= n.raft.log.lastIndex(); i++) terms.set(i, n.raft.log.term(i)!);
  } else {
    for (const e of n.disk.load({ voters: c.ids(), learners: [] }).entries) terms.set(e.index, e.term);
  }
  return terms;
}

/** Builds the scenario up to the moment the follower's log goes back. Returns the follower, the
 *  leader, and the older copy of the follower's disk. */
function divergedCopy(
  c: SimCluster,
  seed: number,
  lostWrites: number,
): { f: NodeId; leader: NodeId; backup: InitialState; oldTerm: number } {
  const first = awaitLeader(c);
  for (let i = 0; i < 3; i++) commitWrite(c, `early${i}`, 'v');
  const f = followersOf(c, first)[0];
  expect(c.transferLeadership(f), `seed ${seed}: transfer to ${f} refused`).toBe(true);
  awaitLeader(c, 3000, [f]);
  const oldTerm = c.raft(f).term;
  c.isolate(f);
  for (let i = 0; i < lostWrites; i++)
    expect(c.write(`lost${i}`, 'v', f), `seed ${seed}: ${f} refused a write`).not.toBeNull();
  const others = c.ids().filter((id) => id !== f);
  const leader = awaitLeader(c, 5000, others);
  for (let i = 0; i < 2; i++) writeWithRetries(c, `new${i}`, 'v');

  // The older copy: the cut-off node's disk, with its uncommitted entries of the old term.
  c.crash(f);
  const backup = c.node(f).disk.load({ voters: c.ids(), learners: [] });
  expect(
    backup.entries.filter((e) => e.term === oldTerm && c.raft(leader).log.term(e.index) !== oldTerm).length,
    `seed ${seed}: the copy should hold old-term entries the leader does not have`,
  ).toBeGreaterThan(0);
  return { f, leader, backup, oldTerm };
}

/** The follower's log goes back to the older copy; its term and vote stay. */
function goBack(c: SimCluster, f: NodeId, backup: InitialState): void {
  c.crash(f);
  const hs = c.node(f).disk.durableHardState();
  c.node(f).disk = new SimDisk();
  c.preloadDisk(f, { ...hs, commit: Math.min(hs.commit, backup.hardState.commit) }, backup.entries);
  c.restart(f);
}

/** The first index where the follower's log disagrees with the leader's (or its end + 1). */
function agreeUpTo(c: SimCluster, leader: NodeId, f: NodeId): number {
  const theirs = stored(c, f);
  let i = 1;
  while (theirs.has(i) && theirs.get(i) === c.raft(leader).log.term(i)) i++;
  return i - 1;
}

describe('a follower whose log went back to a copy with a divergent older-term tail', () => {
  it.each([21, 22, 23, 24, 25])(
    'is backtracked to where the logs agree and caught up; its match is never unproven (seed %i)',
    (seed) => {
      const c = cluster({ seed, nodes: 3 });
      const { f, leader, backup } = divergedCopy(c, seed, 4);
      c.restart(f);
      c.heal();
      const caught = () =>
        c.node(f).alive &&
        c.raft(f).log.lastIndex() === c.raft(leader).log.lastIndex() &&
        c.raft(leader).status().progress[f].match === c.raft(leader).log.lastIndex();
      // More entries than the copy holds, so the copy is behind the match the leader has.
      for (let i = 0; i < 6; i++) commitWrite(c, `more${i}`, 'v');
      expect(c.runUntil(caught, 3000), `seed ${seed}: ${f} never caught up the first time`).toBe(true);
      const matchBefore = c.raft(leader).status().progress[f].match;
      expect(backup.entries[backup.entries.length - 1].index).toBeLessThan(matchBefore);

      goBack(c, f, backup);
      const divergesAt = agreeUpTo(c, leader, f) + 1;
      expect(divergesAt, `seed ${seed}: the restored log must disagree below its end`).toBeLessThanOrEqual(
        c.raft(f).log.lastIndex(),
      );

      // Until a heartbeat tells it otherwise, the leader keeps the match the follower had confirmed
      // (it cannot know better). From then on the match is only ever an index where the follower
      // holds the leader's entry (the checker's safety properties are checked at every step too).
      let unproven: string | null = null;
      let stillOld = true;
      const ok = c.runUntil(() => {
        const m = c.raft(leader).status().progress[f].match;
        stillOld = stillOld && m === matchBefore;
        if (!unproven && !stillOld && c.node(f).alive && m > agreeUpTo(c, leader, f))
          unproven = `at ${c.now} ms the leader counted match ${m} for ${f}, which agrees only up to ${agreeUpTo(c, leader, f)}`;
        return caught();
      }, 3000);
      expect(stillOld, `seed ${seed}: the leader never noticed the follower's log went back`).toBe(false);
      expect(unproven, `seed ${seed}`).toBeNull();
      expect(
        ok,
        `seed ${seed}: ${f} stayed at ${c.raft(f).log.lastIndex()} (match ${c.raft(leader).status().progress[f].match}), leader at ${c.raft(leader).log.lastIndex()}`,
      ).toBe(true);
      // Its old-term tail is gone: it now holds exactly the leader's log.
      expect(agreeUpTo(c, leader, f)).toBe(c.raft(leader).log.lastIndex());
      commitWrite(c, 'after', 'v');
      expectConverged(c);
    },
  );

  it.each([33, 34, 35, 36, 37])(
    'with five nodes, no entry is counted committed on a follower that does not hold it (seed %i)',
    (seed) => {
      // CheckQuorum off, so the leader keeps leading while three of the five are down.
      const c = cluster({ seed, nodes: 5, checkQuorum: false });
      const { f, leader, backup } = divergedCopy(c, seed, 6);
      c.restart(f);
      c.heal();
      expect(
        c.runUntil(() => c.raft(leader).status().progress[f].match === c.raft(leader).log.lastIndex(), 3000),
        `seed ${seed}: ${f} never caught up the first time`,
      ).toBe(true);

      // Only the leader and the follower stay up: new entries reach the follower but cannot commit.
      const rest = c.ids().filter((id) => id !== leader && id !== f);
      for (const id of rest) c.crash(id);
      const committedBefore = c.raft(leader).commitIndex;
      const pending: ReturnType<SimCluster['write']>[] = [];
      for (let i = 0; i < 10; i++) pending.push(c.write(`pending${i}`, 'v'));
      expect(pending.every((w) => w !== null)).toBe(true);
      expect(
        c.runUntil(() => c.raft(leader).status().progress[f].match === c.raft(leader).log.lastIndex(), 2000),
        `seed ${seed}: ${f} never received the pending entries`,
      ).toBe(true);
      expect(c.raft(leader).commitIndex).toBe(committedBefore);
      // The copy ends above the commit index, inside what only the leader and the follower hold.
      const copyEnd = backup.entries[backup.entries.length - 1].index;
      expect(copyEnd).toBeGreaterThan(committedBefore);

      goBack(c, f, backup);
      // Every commit must be held by a majority (3 of 5) of the voters, on their logs or disks.
      let minority: string | null = null;
      const watch = () => {
        const l = c.raft(leader);
        const at = l.commitIndex;
        if (minority || at <= committedBefore) return;
        const holders = c.ids().filter((id) => stored(c, id).get(at) === l.log.term(at));
        if (holders.length < 3) minority = `commit ${at} at ${c.now} ms held only by ${holders.join(', ')}`;
      };
      c.runUntil(() => (watch(), false), 300);
      // One more voter comes back: with the follower's match counted unproven, the leader would now
      // have "three" at the copy's end while only two hold the entries there.
      c.restart(rest[0]);
      const last = c.raft(leader).log.lastIndex();
      const done = c.runUntil(() => {
        watch();
        return c.raft(leader).commitIndex === last && c.node(f).alive && agreeUpTo(c, leader, f) === last;
      }, 3000);
      expect(minority, `seed ${seed}`).toBeNull();
      expect(
        done,
        `seed ${seed}: commit ${c.raft(leader).commitIndex} of ${last}; ${f} agrees up to ${agreeUpTo(c, leader, f)}`,
      ).toBe(true);
      expect(pending.every((w) => w?.status === 'acked')).toBe(true);
      for (const id of rest.slice(1)) c.restart(id);
      expectConverged(c);
    },
  );

  it('costs one probe per rejected heartbeat, never two identical ones at once', () => {
    const seed = 41;
    const c = cluster({ seed, nodes: 3 });
    const { f, leader, backup } = divergedCopy(c, seed, 4);
    c.restart(f);
    c.heal();
    for (let i = 0; i < 6; i++) commitWrite(c, `more${i}`, 'v');
    const last = () => c.raft(leader).log.lastIndex();
    expect(c.runUntil(() => c.raft(leader).status().progress[f].match === last(), 3000)).toBe(true);

    // Every append the leader sends the follower from now on, with the virtual time it left.
    const sent: { at: number; prev: number }[] = [];
    const route = c.net.route.bind(c.net);
    c.net.route = (m) => {
      if (m.type === 'AppendEntries' && m.from === leader && m.to === f && !m.heartbeat)
        sent.push({ at: c.now, prev: m.prevLogIndex });
      return route(m);
    };
    goBack(c, f, backup);
    expect(
      c.runUntil(() => c.node(f).alive && agreeUpTo(c, leader, f) === last(), 3000),
      `seed ${seed}: ${f} never caught up`,
    ).toBe(true);
    expect(sent.length, `seed ${seed}: the leader never probed`).toBeGreaterThan(0);
    const twins = sent.filter((s, i) => i > 0 && s.at === sent[i - 1].at && s.prev === sent[i - 1].prev);
    expect(twins, `seed ${seed}: probes sent twice at once: ${JSON.stringify(twins)}`).toEqual([]);
  });
});

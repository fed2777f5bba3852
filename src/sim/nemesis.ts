// One randomized run: clients write and read while a nemesis crashes and restarts nodes, cuts
// the network (both ways and one way), drops, duplicates and delays messages, compacts logs,
// transfers leadership and replaces servers. Then the world heals, and the run must converge:
// one leader, every node applied to the same index, and every acknowledged write in the log.
// Same seed, same run: a failure prints the seed and `raft-otel sim --seed S` replays it.
import { SimCluster, type SimOptions } from './cluster.js';
import { SafetyViolation } from './checker.js';
import { Rng } from './rng.js';
import { ALL_LIBERTIES } from '../raft/driver.js';
import type { NodeId } from '../raft/types.js';

export interface NemesisOptions {
  /** Virtual milliseconds of faults before healing. */
  faultMs: number;
  /** Virtual milliseconds allowed to converge after healing. */
  settleMs: number;
  /** Also replace servers through membership changes. */
  membership: boolean;
  /** Also hand leadership over now and then. */
  transfers: boolean;
  /** Issue lease reads as well as ReadIndex reads. */
  leaseReads: boolean;
}

export const DEFAULT_NEMESIS: NemesisOptions = {
  faultMs: 3000,
  settleMs: 4000,
  membership: true,
  transfers: true,
  leaseReads: true,
};

export interface RunResult {
  seed: number;
  ok: boolean;
  error: string | null;
  virtualMs: number;
  writesAcked: number;
  writesInvoked: number;
  readsDone: number;
  faults: number;
  maxTerm: number;
  finalCommit: number;
  timeline: string[];
}

/** The core's knobs for one seed, drawn from the seed itself so that the many seeds of a safety
 *  run cover small and large batches, narrow and wide pipelines, frequent and no compaction,
 *  3 and 5 nodes, and every combination of PreVote and CheckQuorum. */
export function simOptionsForSeed(seed: number): Partial<SimOptions> {
  const r = new Rng(seed ^ 0x5eed);
  return {
    nodes: r.chance(0.5) ? 5 : 3,
    preVote: r.chance(0.7),
    checkQuorum: r.chance(0.7),
    maxEntriesPerAppend: r.pick([1, 2, 4, 64]),
    maxInflight: r.pick([1, 2, 8]),
    compactEvery: r.pick([0, 5, 20, 60]),
    // Drawn after the knobs above so that those stay what they were for every seed. Half the
    // seeds run with the node's liberties on and fsyncs that take virtual time, so a crash can
    // fall between a leader's send and its own fsync, as it can in production.
    ...(r.chance(0.5) ? { liberties: ALL_LIBERTIES, fsyncMs: r.pick([1, 3, 8]) } : { fsyncMs: r.pick([0, 2]) }),
  };
}

export function runSeed(seed: number, sim: Partial<SimOptions> = {}, nem: Partial<NemesisOptions> = {}): RunResult {
  const o = { ...DEFAULT_NEMESIS, ...nem };
  const c = new SimCluster({ ...simOptionsForSeed(seed), ...sim, seed });
  const rng = c.rng.fork();
  let faults = 0;
  let error: string | null;
  let replacing: NodeId | null = null;

  const nemesis = () => {
    if (c.now >= o.faultMs) return;
    faults++;
    const ids = c.ids();
    const down = ids.filter((id) => !c.node(id).alive);
    const up = ids.filter((id) => c.node(id).alive);
    const roll = rng.next();
    if (roll < 0.18 && up.length) c.crash(rng.pick(up));
    else if (roll < 0.34 && down.length) c.restart(rng.pick(down));
    else if (roll < 0.46) {
      const shuffled = [...ids].sort(() => rng.next() - 0.5);
      const cut = rng.int(1, ids.length - 1);
      c.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    } else if (roll < 0.54) c.cutOneWay(rng.pick(ids), rng.pick(ids));
    else if (roll < 0.62) {
      const leader = c.leader();
      if (leader) c.isolate(leader);
    } else if (roll < 0.74) c.heal();
    else if (roll < 0.88) {
      c.setNetwork({
        dropRate: rng.chance(0.5) ? rng.next() * 0.3 : 0,
        duplicateRate: rng.chance(0.5) ? rng.next() * 0.2 : 0,
        minDelayMs: rng.int(0, 5),
        maxDelayMs: rng.int(5, 60),
      });
    } else if (roll < 0.94 && o.transfers) {
      c.transferLeadership(rng.pick(ids));
    } else if (o.membership) {
      membershipStep();
    }
  };

  // Replace a server (thesis §4.1): remove a voter, then add a brand-new server as a learner and
  // promote it once it has caught up. The new server gets a new id: a server that lost its disk
  // must never rejoin under its old id, because it may have voted in a term it no longer
  // remembers, and voting again in that term could elect two leaders.
  let nextId = c.ids().length + 1;
  const membershipStep = () => {
    const leader = c.leader();
    if (!leader) return;
    const conf = c.raft(leader).conf;
    if (replacing === null) {
      const victims = conf.voters.filter((v) => v !== leader);
      if (conf.voters.length < 3 || victims.length === 0) return;
      const victim = rng.pick(victims);
      if (c.confChange({ type: 'remove', node: victim })) replacing = `n${nextId}`;
    } else if (!c.nodes.has(replacing)) {
      if (c.confChange({ type: 'add_learner', node: replacing })) {
        c.addNode(replacing, { voters: [...conf.voters], learners: [replacing] });
        nextId++;
      }
    } else if (conf.learners.includes(replacing)) {
      if (c.confChange({ type: 'promote', node: replacing })) replacing = null;
    } else if (!conf.voters.includes(replacing)) {
      c.confChange({ type: 'add_learner', node: replacing }); // the first try was lost: again
    } else {
      replacing = null;
    }
  };

  let key = 0;
  const client = () => {
    if (rng.chance(0.7)) {
      const via = rng.chance(0.8) ? (c.leader() ?? undefined) : rng.pick(c.ids());
      c.write(`k${key++ % 4}`, `v${c.now}`, via);
    } else {
      const alive = c.ids().filter((id) => c.node(id).alive);
      if (alive.length) c.read(`k${rng.int(0, 3)}`, rng.pick(alive), o.leaseReads && rng.chance(0.5));
    }
  };

  const loop = (fn: () => void, lo: number, hi: number, until: number) => {
    const go = () => {
      if (c.now >= until) return;
      fn();
      c.at(rng.int(lo, hi), go);
    };
    c.at(rng.int(lo, hi), go);
  };

  try {
    loop(nemesis, 40, 250, o.faultMs);
    loop(client, 5, 30, o.faultMs + o.settleMs - 1500);
    c.runFor(o.faultMs);
    // Heal: network fixed, every node back up.
    c.heal();
    c.setNetwork({});
    for (const id of c.ids()) if (!c.node(id).alive) c.restart(id);
    c.runFor(o.settleMs);
    error = convergenceProblem(c);
  } catch (e) {
    if (!(e instanceof SafetyViolation)) throw e;
    error = e.message;
  }

  let maxTerm = 0;
  let finalCommit = 0;
  for (const n of c.nodes.values()) {
    if (n.raft) {
      maxTerm = Math.max(maxTerm, n.raft.term);
      finalCommit = Math.max(finalCommit, n.raft.commitIndex);
    }
  }
  return {
    seed,
    ok: error === null,
    error,
    virtualMs: c.now,
    writesAcked: c.writes.filter((w) => w.status === 'acked').length,
    writesInvoked: c.writes.length,
    readsDone: c.reads.filter((r) => r.status === 'done').length,
    faults,
    maxTerm,
    finalCommit,
    timeline: c.timeline.lines,
  };
}

/** After healing: a leader, every member caught up, every acknowledged write in the log. */
export function convergenceProblem(c: SimCluster): string | null {
  const leader = c.leader();
  if (!leader) return 'no leader after the network healed and every node restarted';
  const lr = c.raft(leader);
  const members = [...lr.conf.voters, ...lr.conf.learners];
  for (const id of members) {
    const n = c.node(id);
    if (!n.raft) return `${id} is down after healing`;
    if (n.applied !== lr.commitIndex)
      return `${id} applied ${n.applied}, leader ${leader} committed ${lr.commitIndex}: not converged`;
  }
  for (const w of c.writes) {
    if (w.status !== 'acked') continue;
    const e = c.checker.committed.get(w.index);
    if (!e || e.data !== JSON.stringify(w.cmd)) {
      return `acknowledged write ${w.cmd.id} (${w.cmd.key}=${w.cmd.value} at index ${w.index}) is not in the committed log`;
    }
  }
  return null;
}

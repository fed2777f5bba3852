// Client operations stay linearizable while a nemesis kills, restarts, pauses and partitions
// nodes and drops and delays messages: the recorded history goes through the checker.
//
// The seed draws the schedule; every kind of fault the test asserts on is forced into it, so no
// seed can leave one out. What a seed cannot promise (how many operations a loaded machine gets
// through) is asserted only with a wide margin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/check/linearizability.js';
import { runNemesis, type FaultKind } from '../../src/check/nemesis.js';
import { testSeed } from '../support/seed.js';
import { controlOf, TestCluster } from './harness.js';

let c: TestCluster;
beforeAll(async () => {
  c = await TestCluster.start(3);
});
afterAll(() => c?.stop());

/** A chaos line that injects something: a drop rate above 0 or a delay of up to more than 0 ms. */
function realChaos(what: string): boolean {
  const m = /^drop ([\d.]+), delay (\d+)-(\d+) ms$/.exec(what);
  return !!m && (Number(m[1]) > 0 || Number(m[3]) > 0);
}

/** Each forced kind and how the nemesis names it in its fault log. */
const FORCED: [FaultKind, (what: string) => boolean][] = [
  ['kill', (w) => /^kill -9 n\d$/.test(w)],
  ['pause', (w) => /^pause n\d \(SIGSTOP\)$/.test(w)],
  ['partition', (w) => /^partition \{n\d/.test(w)],
  ['chaos', realChaos],
  ['restart', (w) => /^restart n\d$/.test(w)],
  ['resume', (w) => /^resume n\d$/.test(w)],
  ['heal', (w) => /^heal the network$/.test(w)],
];

describe('linearizability under a nemesis', () => {
  it('keeps a history of concurrent get/put/cas linearizable through kills, pauses and partitions', async () => {
    const seed = testSeed('nemesis schedule', 'test/cluster/linearizability.test.ts', 'RAFT_NEMESIS_SEED');
    const r = await runNemesis({
      control: controlOf(c),
      clients: 6,
      keys: 3,
      durationMs: 12_000,
      settleMs: 3000,
      faults: true,
      seed,
      force: FORCED.map(([kind]) => kind),
    });
    console.log(
      `nemesis: ${r.invoked} ops (${r.ok} ok, ${r.failed} failed, ${r.unknown} unknown), ${r.faults.length} faults, ` +
        `availability ${(r.availability.duringFaults * 100).toFixed(0)}% during faults, ${(r.availability.afterHealing * 100).toFixed(0)}% after; errors: ${JSON.stringify(r.errors)}`,
    );
    const report = r.check.failures.map((f) => describeFailure(f, r.t0)).join('\n\n');
    expect(r.check.linearizable, report).toBe(true);
    // The run must have been a real test: every kind of fault, many completed operations, and a
    // cluster that serves again after healing.
    const log = r.faults.map((f) => `${(f.at / 1000).toFixed(1)}s ${f.what}`).join('\n');
    for (const [kind, happened] of FORCED)
      expect(
        r.faults.some((f) => happened(f.what)),
        `${kind} in:\n${log}`,
      ).toBe(true);
    expect(r.ok, 'completed operations').toBeGreaterThan(50);
    expect(r.healed, `the cluster healed (every node answering, a leader) within 20 s:\n${log}`).toBe(true);
    // After healing, operations go to random nodes of a whole, clean cluster: nearly all complete
    // (a ratio, which does not depend on how fast the machine is).
    expect(r.availability.afterHealing, 'fraction of operations completed after healing').toBeGreaterThanOrEqual(0.8);
    const healedAt = r.faults.find((f) => f.what.startsWith('healed'))!.at;
    const afterHealing = r.history.filter((op) => op.status === 'ok' && op.call >= r.t0 + healedAt);
    expect(afterHealing.length, 'operations completed after healing').toBeGreaterThan(10);
  });
});

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

/** Each forced kind and how the nemesis names it in its fault log. */
const FORCED: [FaultKind, RegExp][] = [
  ['kill', /^kill -9 n\d$/],
  ['pause', /^pause n\d \(SIGSTOP\)$/],
  ['partition', /^partition /],
  ['chaos', /^drop /],
  ['restart', /^restart n\d$/],
  ['resume', /^resume n\d$/],
  ['heal', /^heal the network$/],
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
        `availability ${(r.availability.duringFaults * 100).toFixed(0)}% during faults, ${(r.availability.afterHealing * 100).toFixed(0)}% after`,
    );
    const report = r.check.failures.map((f) => describeFailure(f, r.t0)).join('\n\n');
    expect(r.check.linearizable, report).toBe(true);
    // The run must have been a real test: every kind of fault, many completed operations, and a
    // cluster that serves again after healing.
    const log = r.faults.map((f) => `${(f.at / 1000).toFixed(1)}s ${f.what}`).join('\n');
    for (const [kind, re] of FORCED)
      expect(
        r.faults.some((f) => re.test(f.what)),
        `${kind} in:\n${log}`,
      ).toBe(true);
    expect(r.ok, 'completed operations').toBeGreaterThan(50);
    const healed = r.faults.find((f) => f.what.startsWith('healed'));
    expect(healed, `the nemesis healed the cluster:\n${log}`).toBeDefined();
    const afterHealing = r.history.filter((op) => op.status === 'ok' && op.call >= r.t0 + healed!.at);
    expect(afterHealing.length, 'operations completed after healing').toBeGreaterThan(10);
  });
});

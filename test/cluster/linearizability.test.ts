// Client operations stay linearizable while a nemesis kills, restarts, pauses and partitions
// nodes and drops and delays messages: the recorded history goes through the checker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/check/linearizability.js';
import { runNemesis } from '../../src/check/nemesis.js';
import { controlOf, TestCluster } from './harness.js';

let c: TestCluster;
beforeAll(async () => {
  c = await TestCluster.start(3);
}, 30_000);
afterAll(() => c?.stop());

describe('linearizability under a nemesis', () => {
  it('keeps a history of concurrent get/put/cas linearizable through kills, pauses and partitions', async () => {
    const seed = Number(process.env.RAFT_NEMESIS_SEED ?? Date.now() % 100000);
    console.log(`nemesis seed ${seed} (set RAFT_NEMESIS_SEED=${seed} to replay the same fault schedule)`);
    const r = await runNemesis({
      control: controlOf(c),
      clients: 6,
      keys: 3,
      durationMs: 12_000,
      settleMs: 3000,
      faults: true,
      seed,
    });
    const report = r.check.failures.map((f) => describeFailure(f, r.t0)).join('\n\n');
    expect(r.check.linearizable, report).toBe(true);
    // The run must have been a real test: many operations, real faults, and recovery after healing.
    expect(r.ok).toBeGreaterThan(200);
    expect(r.faults.length).toBeGreaterThan(8);
    expect(r.faults.some((f) => f.what.startsWith('kill'))).toBe(true);
    expect(r.availability.afterHealing).toBeGreaterThan(0.9);
    console.log(
      `nemesis: ${r.invoked} ops (${r.ok} ok, ${r.failed} failed, ${r.unknown} unknown), ${r.faults.length} faults, ` +
        `availability ${(r.availability.duringFaults * 100).toFixed(0)}% during faults, ${(r.availability.afterHealing * 100).toFixed(0)}% after`,
    );
  }, 60_000);
});

// A short run of bench/fuzz.ts (npm run fuzz runs 10,000 inputs): malformed HTTP requests and
// forged or malformed gRPC calls against a real 3-node cluster crash nothing, hang nothing, lose
// no acknowledged write, answer no client mistake with a 500, and let no stranger's call through.
import { describe, expect, it } from 'vitest';
import { formatReport, runFuzz } from '../../bench/fuzz.js';

describe('fuzzing a real cluster', () => {
  it('1,000 inputs: no crash, no hang, no lost write, no 500, no unauthenticated call accepted', async () => {
    // A fixed seed, so a failure here replays exactly; FUZZ_SEED=<n> explores other inputs.
    const seed = Number(process.env.FUZZ_SEED ?? 20261123);
    if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be a whole number, not ${process.env.FUZZ_SEED}`);
    console.log(`fuzz seed ${seed} (FUZZ_SEED=${seed} replays this run)`);
    // Bounded by its inputs, not by the clock: a slow machine takes longer, it does not test less.
    // The time limit is only a backstop under the test's own timeout.
    const report = await runFuzz({ inputs: 1000, seconds: 130, seed, keys: 30, concurrency: 8, log: () => {} });
    const text = formatReport(report);
    console.log(text);
    expect(report.sent, text).toBe(1000);
    expect(report.crashes, text).toEqual([]);
    expect(report.hangs, text).toEqual([]);
    expect(report.lost, text).toEqual([]);
    expect(report.serverErrors, text).toEqual([]);
    expect(report.unauthenticatedAccepted, text).toEqual([]);
    // The fuzz reached both doors.
    expect(Object.keys(report.http).length, text).toBeGreaterThan(3);
    expect(report.grpc['stranger UNAUTHENTICATED'], text).toBeGreaterThan(100);
  }, 150_000);
});

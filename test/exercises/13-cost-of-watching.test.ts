// Exercise 13's steps on a real cluster (the sampled part): the cluster restarted with
// RAFT_SAMPLE_WRITES=0.1, a benchmark, then a leader killed. The check fails right after `exercise
// start` and passes after. The throughput comparisons of the other steps are figures bench prints,
// which no check reads.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../cli/procs.js';
import { ExerciseCluster } from './exercise-cluster.js';

afterAll(cleanUp);

describe('exercise 13: the cost of watching', () => {
  it('fails before the steps, passes once sampled writes, a whole kept write and an election are seen', async () => {
    // Step 1 of the README: every write traced (no per-node cap).
    const c = await ExerciseCluster.start(3, { RAFT_TRACE_RATE: '0' });
    await c.ok('exercise', 'start', '13');
    const before = await c.check(13);
    expect(before.code, before.out + before.err).toBe(1);
    expect(before.out).toMatch(/✗ head sampling dropped writes/);

    // Step 1, every write traced: every committed entry is a kept write or the cluster's own.
    await c.ok('bench', '--clients', '8', '--duration', '2', '--mix', 'put=100');
    await c.settled();
    const full = await c.check(13);
    expect(full.out, 'nothing is lost while every write is sampled').toMatch(
      /✗ head sampling dropped writes: of \d+ entries committed since the start, [1-9]\d* are kept writes .*; \d+ writes left no trace/,
    );

    await c.restartAll({ RAFT_TRACE_RATE: '0', RAFT_SAMPLE_WRITES: '0.1' });
    const bench = await c.ok('bench', '--clients', '8', '--duration', '4', '--mix', 'put=100');
    expect(bench.out).toMatch(/throughput \d+ ops\/s/);
    const leader = await c.leader();
    await c.ok('kill', leader);
    await c.leader();
    await c.ok('restart', leader);

    const after = await c.checkPasses(13);
    expect(after.out).toMatch(
      /✓ head sampling dropped writes: of \d+ entries committed since the start, .*; [1-9]\d* writes left no trace/,
    );
    expect(after.out).toMatch(/✓ a kept write is whole/);
    expect(after.out).toMatch(/✓ the election after the kill is in the traces/);
  });
});

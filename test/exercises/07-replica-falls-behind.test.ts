// Exercise 07's steps on a real cluster, as its README writes them: the check fails right after
// `exercise start` and passes once a follower has been caught up by backtracking (Part A) and by a
// snapshot (Part B, after a restart with RAFT_SNAPSHOT_EVERY=100).
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../cli/procs.js';
import { ExerciseCluster } from './exercise-cluster.js';

afterAll(cleanUp);

describe('exercise 07: a replica falls behind', () => {
  it('fails before the steps, passes after backtracking with a hint and an InstallSnapshot', async () => {
    const c = await ExerciseCluster.start(3);
    await c.ok('exercise', 'start', '7');
    const before = await c.check(7);
    expect(before.code, before.out + before.err).toBe(1);
    expect(before.out).toMatch(/✗ .*rejected with a conflict hint/);

    // Part A: a follower misses hundreds of entries, a new leader catches it up.
    const first = await c.leader();
    const [f, g] = await c.followers();
    await c.ok('kill', f);
    await c.ok('bench', '--clients', '8', '--duration', '2', '--mix', 'put=100');
    // A new leader knows nothing of f's log. On a loaded machine g may have taken over by itself
    // meanwhile (an election): then there is nothing to hand over.
    if ((await c.leader()) === first) await c.write('transfer-leadership', '--to', g);
    expect(await c.leader()).toBe(g);
    for (const k of ['after-1', 'after-2', 'after-3']) await c.write('kv', 'put', k, '1');
    await c.ok('restart', f);
    // Part A is in the traces before the cluster restarts for Part B.
    await c.checkShows(7, /✓ .*rejected it with the hint conflict index \d+/);

    // Part B: frequent snapshots, then the same absence: InstallSnapshot instead of the log.
    await c.restartAll({ RAFT_SNAPSHOT_EVERY: '100' });
    const [f2] = await c.followers();
    await c.ok('kill', f2);
    await c.ok('bench', '--clients', '8', '--duration', '2', '--mix', 'put=100');
    await c.ok('restart', f2);

    const after = await c.checkPasses(7);
    expect(after.out).toMatch(/✓ .*rejected it with the hint conflict index \d+/);
    expect(after.out).toMatch(/✓ .*sent .* a snapshot up to index \d+/);
  });
});

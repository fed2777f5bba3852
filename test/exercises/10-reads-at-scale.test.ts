// Exercise 10's steps on a real cluster: reads at the leader and at a follower in each mode, then
// check-linearizable with stale reads. The check fails right after `exercise start` and passes
// after the steps (the stale run is repeated, as the check's advice says, if a run happens to
// catch no stale read: at most three runs).
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../cli/procs.js';
import { ExerciseCluster } from './exercise-cluster.js';

afterAll(cleanUp);

describe('exercise 10: reads at scale', () => {
  it('fails before the steps, passes after the reads and a stale read caught by the checker', async () => {
    const c = await ExerciseCluster.start(3);
    await c.ok('exercise', 'start', '10');
    const before = await c.check(10);
    expect(before.code, before.out + before.err).toBe(1);
    expect(before.out).toMatch(/✗ a linearizable read at a follower/);

    await c.write('kv', 'put', 'color', 'blue');
    const leader = await c.leader();
    const [f] = await c.followers();
    await c.write('kv', 'get', 'color', '--node', leader);
    await c.write('kv', 'get', 'color', '--node', f);
    await c.write('kv', 'get', 'color', '--node', leader, '--consistency', 'lease');
    const stale = await c.write(
      'kv',
      'get',
      'color',
      '--node',
      f,
      '--consistency',
      'stale',
      '--max-staleness-ms',
      '500',
    );
    expect(stale.out).toMatch(/^blue/);

    let caught = false;
    for (let run = 0; run < 3 && !caught; run++) {
      const r = await c.run(
        'check-linearizable',
        '--duration',
        '5',
        '--settle',
        '1',
        '--reads',
        'stale',
        '--max-staleness-ms',
        '3000',
      );
      caught = /verdict\s+NOT LINEARIZABLE/.test(r.out);
      console.log(`check-linearizable --reads stale, run ${run + 1}: ${caught ? 'caught' : 'not caught'}`);
    }
    expect(caught, 'three stale-read runs and none caught by the checker').toBe(true);

    const after = await c.checkPasses(10, 60_000);
    expect(after.out).toMatch(/✓ a linearizable read at follower .* asked leader .* for the read index/);
    expect(after.out).toMatch(/✓ a read at the leader .* needed no hop/);
    expect(after.out).toMatch(/✓ a bounded-stale read at follower .* without asking the leader/);
    expect(after.out).toMatch(/✓ the linearizability checker caught a stale read/);
  });
});

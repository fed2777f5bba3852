// Exercise 08's steps on a real cluster: a follower loses its disk, is removed, and a server with a
// new id joins (learner, catch-up, promotion). The check fails right after `exercise start` and
// passes after the steps.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../cli/procs.js';
import { ExerciseCluster } from './exercise-cluster.js';

afterAll(cleanUp);

describe('exercise 08: a server replaced', () => {
  it('fails before the steps, passes after remove and add under a new id', async () => {
    const c = await ExerciseCluster.start(3, {}, 1); // n4 takes the ports after n3's
    await c.ok('exercise', 'start', '8');
    const before = await c.check(8);
    expect(before.code, before.out + before.err).toBe(1);
    expect(before.out).toMatch(/✗ .*was removed from the configuration/);

    await c.write('kv', 'put', 'before-replace', '1');
    const [lost] = await c.followers();
    await c.ok('kill', lost);
    await c.ok('members', 'remove', lost);
    rmSync(join(c.dir, lost), { recursive: true, force: true }); // its disk is gone
    const refused = await c.run('members', 'add', lost);
    expect(refused.code, 'a returning id is refused').not.toBe(0);
    const added = await c.ok('members', 'add', 'n4');
    expect(added.out).toMatch(/promoted n4 to voter/);

    const after = await c.checkPasses(8);
    expect(after.out).toMatch(new RegExp(`✓ ${lost} was removed`));
    expect(after.out).toMatch(/✓ n4, an id the cluster had never had, joined as a learner .* promoted/);
    expect(after.out).toMatch(/✓ n4 caught up/);
  });
});

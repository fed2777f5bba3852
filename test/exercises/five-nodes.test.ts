// Exercise 06 on a five-node cluster with the built-in viewer: the check fails before the steps,
// and passes after delays beyond the election timeout kept the cluster leaderless and their removal
// let it elect a leader.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exercise, fails, lab, ok, passes, sleep, type Lab } from './support.js';

describe('exercise 06 (five nodes)', () => {
  let l: Lab;
  beforeAll(async () => {
    l = await lab(5);
  });
  afterAll(() => l?.stop());

  it('06 is there always a leader: fails before, passes after a leaderless stretch and recovery', async () => {
    await ok(l, 'exercise', 'start', '6');
    const before = await fails(l, '6');
    expect(before.out).toMatch(/✓ a cluster of five nodes/);
    await ok(l, 'chaos', '--delay', '700-800');
    // The transfer cannot finish in time (that is the point): its exit status does not matter.
    await l.run('transfer-leadership');
    await sleep(4000);
    const during = await exercise(l, 'check', '6');
    expect(during.code).toBe(1);
    await ok(l, 'chaos', '--off');
    await l.leader();
    const r = await passes(l, '6');
    expect(r.out).toMatch(/no leader for \d+(\.\d)? s/);
    expect(r.out).toMatch(/split vote: /);
  });
});

// Exercise 09's steps on a real cluster: Kleppmann's scenario with the CLI's lock and kv commands.
// The check fails right after `exercise start` and passes after the steps.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../cli/procs.js';
import { sleep } from '../support/wait.js';
import { ExerciseCluster } from './exercise-cluster.js';

afterAll(cleanUp);

const tokenIn = (out: string) => {
  const m = /token (\d+)/.exec(out);
  if (!m) throw new Error(`no token in: ${out}`);
  return m[1];
};

describe('exercise 09: a lock is a leader', () => {
  it('fails before the steps, passes after a fenced late write and an unfenced one', async () => {
    const c = await ExerciseCluster.start(3);
    await c.ok('exercise', 'start', '9');
    const before = await c.check(9);
    expect(before.code, before.out + before.err).toBe(1);
    expect(before.out).toMatch(/✗ one lock was acquired by two holders/);

    const t1 = tokenIn((await c.write('lock', 'acquire', 'orders', '--owner', 'worker-1', '--ttl-ms', '3000')).out);
    const held = await c.run('lock', 'acquire', 'orders', '--owner', 'worker-2');
    expect(held.code, held.out).not.toBe(0);
    await sleep(4000); // worker-1 "pauses" past its lease
    const t2 = tokenIn((await c.write('lock', 'acquire', 'orders', '--owner', 'worker-2')).out);
    expect(Number(t2)).toBeGreaterThan(Number(t1));
    await c.write('kv', 'put', 'orders/total', '200', '--fencing-token', `orders:${t2}`);
    const late = await c.run('kv', 'put', 'orders/total', '100', '--fencing-token', `orders:${t1}`);
    expect(late.code).toBe(1);
    expect(late.out).toMatch(/409 fenced/);
    await c.write('kv', 'put', 'orders/total', '100');

    const after = await c.checkPasses(9);
    expect(after.out).toMatch(new RegExp(`✓ lock "orders" was held twice in turn: token ${t1}, then ${t2}`));
    expect(after.out).toMatch(new RegExp(`✓ the old holder's late write .* token ${t1} was refused`));
    expect(after.out).toMatch(/✓ the same late write without a token was applied/);
  });
});

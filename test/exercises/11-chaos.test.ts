// Exercise 11's steps on a real cluster: drops, delays, a slow disk on one follower then two,
// dropped replies, and a compare-and-set retried with and without an idempotency key. The check
// fails right after `exercise start` and passes after the steps.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUp } from '../cli/procs.js';
import { ExerciseCluster } from './exercise-cluster.js';

afterAll(cleanUp);

describe('exercise 11: chaos', () => {
  it('fails before the steps, passes once each fault is in the traces', async () => {
    const c = await ExerciseCluster.start(3);
    await c.ok('exercise', 'start', '11');
    const before = await c.check(11);
    expect(before.code, before.out + before.err).toBe(1);
    expect(before.out).toMatch(/✗ a dropped request/);

    // A write under drops may time out (its outcome unknown): the steps go on, as a learner's would.
    const writes = async (prefix: string, n: number) => {
      for (let i = 1; i <= n; i++) await c.run('kv', 'put', `${prefix}-${i}`, 'a');
    };
    await c.ok('chaos', '--drop', '0.3');
    await writes('drop', 10); // 20 appends: the chance none is dropped is 0.7^20, under 0.1%
    await c.ok('chaos', '--off');
    await c.leader();
    await c.ok('chaos', '--delay', '20-80');
    await writes('delay', 2);
    await c.ok('chaos', '--off');
    const [f1, f2] = await c.followers();
    await c.ok('chaos', '--slow-fsync', '300', '--node', f1);
    await writes('slow-one', 2);
    await c.ok('chaos', '--slow-fsync', '300', '--node', f2);
    const slow = Date.now();
    await writes('slow-two', 2);
    expect(Date.now() - slow, 'two writes waiting for a slow disk each').toBeGreaterThanOrEqual(600);
    await c.ok('chaos', '--off');
    await c.ok('chaos', '--drop-reply', '0.5');
    await writes('reply', 6);
    await c.ok('chaos', '--off');
    await c.leader();

    const first = await c.write('kv', 'cas', 'ticket-42', '-', 'paid', '--idempotency-key', 'pay-42');
    const retry = await c.write('kv', 'cas', 'ticket-42', '-', 'paid', '--idempotency-key', 'pay-42');
    const answer = (out: string) => out.split('\n')[0]; // then a link to its own trace
    expect(answer(retry.out), 'the retry gets the first answer').toBe(answer(first.out));
    expect(answer(first.out)).toMatch(/^swapped at index \d+/);
    await c.write('kv', 'cas', 'ticket-43', '-', 'paid');
    const again = await c.write('kv', 'cas', 'ticket-43', '-', 'paid');
    expect(again.out).toMatch(/not swapped/);

    const after = await c.checkPasses(11);
    for (const what of [
      /✓ a dropped request/,
      /✓ a delayed request/,
      /✓ one slow disk/,
      /✓ two slow disks/,
      /✓ a dropped reply/,
      /✓ an idempotent retry/,
      /✓ the same retry without a key/,
    ])
      expect(after.out).toMatch(what);
  });
});

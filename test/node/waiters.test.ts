// The node's waiters: settled by key or by index, rejected at their deadline, and all rejected at
// shutdown, so no client request is held forever.
import { describe, expect, it } from 'vitest';
import { IndexWaiters, Waiters } from '../../src/node/waiters.js';

describe('waiters', () => {
  it('settle by key with their meta, time out with the error given, and forget a cancelled key', async () => {
    const w = new Waiters<number, string, { term: number }>();
    const a = w.wait(1, 5000, () => new Error('a timed out'), { term: 3 });
    const b = w.wait(2, 10, () => new Error('b timed out'), { term: 4 });
    const c = w.wait(3, 5000, () => new Error('c timed out'), { term: 5 });
    expect(w.meta(1)).toEqual({ term: 3 });
    w.resolve(1, 'applied');
    await expect(a).resolves.toBe('applied');
    await expect(b).rejects.toThrow('b timed out');
    expect(w.keys()).toEqual([3]);
    w.cancel(3);
    expect(w.keys()).toEqual([]);
    w.resolve(3, 'late'); // nobody waits any more: nothing happens
    const settled = await Promise.race([
      c.then(() => 'settled'),
      new Promise((r) => setTimeout(() => r('pending'), 20)),
    ]);
    expect(settled).toBe('pending');
  });

  it('release index waiters once the index is reached, and reject the rest at shutdown', async () => {
    const w = new IndexWaiters();
    const five = w.wait(5, 5000, () => new Error('5 timed out'));
    const nine = w.wait(9, 5000, () => new Error('9 timed out'));
    w.release(4);
    w.release(6);
    await expect(five).resolves.toBeUndefined();
    w.rejectAll(() => new Error('shutting down'));
    await expect(nine).rejects.toThrow('shutting down');
  });
});

// Locks, fencing and idempotency on a real cluster: Kleppmann's paused lock holder, and a retried
// request applied exactly once through a failover and a full restart.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from './harness.js';

let c: TestCluster;
beforeAll(async () => {
  c = await TestCluster.start(3);
}, 30_000);
afterAll(() => c?.stop());

describe('locks with fencing tokens', () => {
  it("Kleppmann's scenario: a paused holder loses its lease and its late write is fenced off", async () => {
    const leader = await c.waitForLeader();
    const client = spawn(process.execPath, [
      resolve('test/cluster/fixtures/lock-client.mjs'),
      leader.http,
      'orders',
      'client-1',
      '400',
      'storage',
    ]);
    let out = '';
    client.stdout.on('data', (d) => (out += d));
    await c.until(async () => out.includes('acquired'), 10_000, 'client 1 to acquire the lock');
    client.kill('SIGSTOP'); // a stop-the-world pause, right after acquiring
    const first = JSON.parse(out.split('\n')[0]).acquired;
    expect(first.token).toBe(1);

    // While client 1 is frozen its lease runs out; client 2 takes the lock and writes.
    await new Promise((r) => setTimeout(r, 600));
    const held = await c.request(leader, 'POST', '/locks/orders/acquire', { owner: 'client-2', ttlMs: 10_000 });
    expect(held.status).toBe(200);
    expect(held.body.token).toBe(2);
    const w2 = await c.request(
      leader,
      'PUT',
      '/kv/storage',
      { value: 'written by client-2' },
      { 'x-fencing-token': 'orders:2' },
    );
    expect(w2.status).toBe(200);

    // Client 1 wakes up, unaware, and writes with its old token: refused.
    const exited = new Promise((r) => client.once('exit', r));
    client.kill('SIGCONT');
    await exited;
    const late = JSON.parse(out.trim().split('\n').pop()!).write;
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('fenced');
    expect((await c.get(leader, 'storage')).body.value).toBe('written by client-2');

    const view = await c.request(leader, 'GET', '/locks/orders');
    expect(view.body).toMatchObject({ held: true, owner: 'client-2', token: 2, highestToken: 2 });
  });

  it('refuses a second holder, renews and releases only for the holder, through any node', async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n.id !== leader.id && n.proc)!;
    const a = await c.request(follower, 'POST', '/locks/jobs/acquire', { owner: 'a', ttlMs: 5000 });
    expect(a.status).toBe(200);
    const b = await c.request(follower, 'POST', '/locks/jobs/acquire', { owner: 'b', ttlMs: 5000 });
    expect(b.status).toBe(409);
    expect(b.body.error).toMatchObject({ code: 'lock_held', holder: 'a' });
    expect((await c.request(leader, 'POST', '/locks/jobs/renew', { owner: 'b', token: a.body.token })).status).toBe(
      409,
    );
    expect(
      (await c.request(leader, 'POST', '/locks/jobs/renew', { owner: 'a', token: a.body.token, ttlMs: 6000 })).status,
    ).toBe(200);
    expect((await c.request(leader, 'POST', '/locks/jobs/release', { owner: 'a', token: a.body.token })).status).toBe(
      200,
    );
    const again = await c.request(leader, 'POST', '/locks/jobs/acquire', { owner: 'b', ttlMs: 5000 });
    expect(again.body.token).toBe(a.body.token + 1);
    expect((await c.request(leader, 'POST', '/locks/jobs/acquire', { owner: 'b', ttlMs: 5 })).body.error.code).toBe(
      'bad_request',
    );
    expect((await c.request(leader, 'PUT', '/kv/x', { value: 'v' }, { 'x-fencing-token': 'nonsense' })).status).toBe(
      400,
    );
  });
});

describe('idempotent writes', () => {
  it('applies a retried request once, through a failover and a restart of every node', async () => {
    const leader = await c.waitForLeader();
    const key = { 'idempotency-key': 'order-42' };
    // A compare-and-set from "absent": applied twice, the second attempt would report failure.
    const first = await c.request(leader, 'POST', '/kv/order-42/cas', { expected: null, value: 'paid' }, key);
    expect(first.status).toBe(200);
    expect(first.body.swapped).toBe(true);

    await c.kill(leader);
    const next = await c.waitForLeader(
      10_000,
      c.nodes.filter((n) => n.proc).map((n) => n.id),
    );
    const retry = await c.request(next, 'POST', '/kv/order-42/cas', { expected: null, value: 'paid' }, key);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    // Without the key, the same request is a new one: it fails, as it should.
    expect((await c.request(next, 'POST', '/kv/order-42/cas', { expected: null, value: 'paid' })).status).toBe(412);
    // Reusing the key for another request is an error.
    expect((await c.request(next, 'PUT', '/kv/order-42', { value: 'refunded' }, key)).status).toBe(422);

    await Promise.all(c.nodes.filter((n) => n.proc).map((n) => c.kill(n)));
    for (const n of c.nodes) c.launch(n);
    const after = await c.waitForLeader();
    const third = await c.request(after, 'POST', '/kv/order-42/cas', { expected: null, value: 'paid' }, key);
    expect(third.body).toEqual(first.body);
  });

  it('a request whose leader dies mid-flight is applied exactly once when retried', async () => {
    for (let round = 0; round < 3; round++) {
      const leader = await c.waitForLeader();
      const k = `mid-${round}`;
      const headers = { 'idempotency-key': `mid-flight-${round}` };
      const inFlight = c
        .request(leader, 'POST', `/kv/${k}/cas`, { expected: null, value: 'once' }, headers)
        .catch(() => null);
      await new Promise((r) => setTimeout(r, round * 3));
      await c.kill(leader);
      await inFlight; // lost, failed or succeeded: the client cannot know
      await c.restart(leader);
      const answer = await c.until(
        async () => {
          const l = await c.waitForLeader();
          const r = await c.request(l, 'POST', `/kv/${k}/cas`, { expected: null, value: 'once' }, headers);
          return r.status === 200 && r;
        },
        10_000,
        'the retry to be answered',
      );
      expect(answer.body.swapped, `round ${round}`).toBe(true);
      expect((await c.get(await c.waitForLeader(), k)).body.value).toBe('once');
    }
  });
});

// Locks, fencing and idempotency on a real cluster: Kleppmann's paused lock holder, and a retried
// request applied exactly once through a failover and a full restart.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnTracked } from '../support/processes.js';
import { sleep } from '../support/wait.js';
import { DEADLINES, TestCluster } from './harness.js';

let c: TestCluster;
beforeAll(async () => {
  c = await TestCluster.start(3);
});
afterAll(() => c?.stop());

interface Step {
  status: number;
  body: { token?: number; error?: { code: string } };
}

describe('locks with fencing tokens', () => {
  it("Kleppmann's scenario: a paused holder loses its lease and its late write is fenced off", async () => {
    const leader = await c.settled();
    const client = spawnTracked(process.execPath, [
      '--import',
      'tsx',
      resolve('test/cluster/fixtures/lock-client.ts'),
      leader.http,
      'orders',
      'client-1',
      '400',
      'storage',
    ]);
    let out = '';
    client.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    client.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const lines = () => out.split('\n').filter((l) => l.startsWith('{'));
    await c.until(
      () => lines().length >= 1,
      DEADLINES.serving,
      () => `client 1 to acquire the lock (output: ${out})`,
    );
    client.kill('SIGSTOP'); // a stop-the-world pause, right after acquiring
    const first = (JSON.parse(lines()[0]) as { acquired: Step }).acquired;
    expect(first.status).toBe(200);
    expect(first.body.token).toBe(1);

    // While client 1 is frozen its lease runs out (by log time: the leader's clock as of each
    // command): client 2 asks until the lock is free, then writes with its own token.
    const held = await c.until(
      async () => {
        const r = await c.request(await c.waitForLeader(), 'POST', '/locks/orders/acquire', {
          owner: 'client-2',
          ttlMs: 60_000,
        });
        return r.status === 200 && r;
      },
      DEADLINES.leader,
      "client 2 to get the lock once client 1's 400 ms lease ran out",
    );
    expect(held.body.token).toBe(2);
    const w2 = await c.request(
      await c.waitForLeader(),
      'PUT',
      '/kv/storage',
      { value: 'written by client-2' },
      { 'x-fencing-token': 'orders:2' },
    );
    expect(w2.status, w2.text).toBe(200);

    // Client 1 wakes up, unaware, and writes with its old token: refused.
    client.kill('SIGCONT');
    client.stdin!.write('write\n');
    await c.until(
      () => lines().length >= 2,
      DEADLINES.request,
      () => `client 1's late write (output: ${out})`,
    );
    const late = (JSON.parse(lines()[1]) as { write: Step }).write;
    expect(late.status).toBe(409);
    expect(late.body.error?.code).toBe('fenced');
    expect((await c.leaderRequest('GET', '/kv/storage')).body.value).toBe('written by client-2');

    const view = await c.leaderRequest('GET', '/locks/orders');
    expect(view.body).toMatchObject({ held: true, owner: 'client-2', token: 2, highestToken: 2 });
  });

  it('refuses a second holder, renews and releases only for the holder, through any node', async () => {
    await c.withSteadyLeader(async (leader, attempt) => {
      const follower = c.nodes.find((n) => n.id !== leader.id && n.proc)!;
      const lock = `/locks/jobs${attempt}`;
      const a = await c.request(follower, 'POST', `${lock}/acquire`, { owner: 'a', ttlMs: 30_000 });
      expect(a.status, a.text).toBe(200);
      const token = a.body.token!;
      const b = await c.request(follower, 'POST', `${lock}/acquire`, { owner: 'b', ttlMs: 30_000 });
      expect(b.status).toBe(409);
      expect(b.body.error).toMatchObject({ code: 'lock_held', holder: 'a' });
      expect((await c.request(leader, 'POST', `${lock}/renew`, { owner: 'b', token })).status).toBe(409);
      expect((await c.request(leader, 'POST', `${lock}/renew`, { owner: 'a', token, ttlMs: 30_000 })).status).toBe(200);
      expect((await c.request(leader, 'POST', `${lock}/release`, { owner: 'a', token })).status).toBe(200);
      const again = await c.request(leader, 'POST', `${lock}/acquire`, { owner: 'b', ttlMs: 30_000 });
      expect(again.body.token).toBe(token + 1);
      const tooShort = await c.request(leader, 'POST', `${lock}/acquire`, { owner: 'b', ttlMs: 5 });
      expect(tooShort.body.error?.code).toBe('bad_request');
      const badFence = await c.request(leader, 'PUT', '/kv/x', { value: 'v' }, { 'x-fencing-token': 'nonsense' });
      expect(badFence.status).toBe(400);
    });
  });
});

describe('idempotent writes', () => {
  it('applies a retried request once, through a failover and a restart of every node', async () => {
    const leader = await c.settled();
    const key = { 'idempotency-key': 'order-42' };
    const cas = { expected: null, value: 'paid' };
    // A compare-and-set from "absent": applied twice, the second attempt would report failure.
    const first = await c.request(leader, 'POST', '/kv/order-42/cas', cas, key);
    expect(first.status, first.text).toBe(200);
    expect(first.body.swapped).toBe(true);

    await c.kill(leader);
    const retry = await c.leaderRequest('POST', '/kv/order-42/cas', cas, key);
    expect(retry.status, retry.text).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    // Without the key, the same request is a new one: it fails, as it should.
    expect((await c.leaderRequest('POST', '/kv/order-42/cas', cas)).status).toBe(412);
    // Reusing the key for another request is an error.
    expect((await c.leaderRequest('PUT', '/kv/order-42', { value: 'refunded' }, key)).status).toBe(422);

    await Promise.all(c.nodes.filter((n) => n.proc).map((n) => c.kill(n)));
    for (const n of c.nodes) c.launch(n);
    const third = await c.leaderRequest('POST', '/kv/order-42/cas', cas, key);
    expect(third.body).toEqual(first.body);
  });

  it('a request whose leader dies mid-flight is applied exactly once when retried', async () => {
    // Rounds 0-2 kill the leader at slightly different points of the write, mostly before it
    // commits (the retry is then a first application). The last round kills it only once the
    // write is committed (a follower serves it): the retry must be answered as a replay of that
    // application, which is what the Idempotency-Key is for (a fresh CAS would answer 412).
    const rounds = 4;
    for (let round = 0; round < rounds; round++) {
      const afterCommit = round === rounds - 1;
      const leader = await c.settled();
      const follower = c.nodes.find((n) => n !== leader && n.proc)!;
      const k = `mid-${round}`;
      const headers = { 'idempotency-key': `mid-flight-${round}` };
      const inFlight = c
        .request(leader, 'POST', `/kv/${k}/cas`, { expected: null, value: 'once' }, headers)
        .catch(() => null);
      if (afterCommit)
        await c.until(
          async () => (await c.get(follower, k, '?consistency=stale&maxStalenessMs=60000')).body.value === 'once',
          DEADLINES.leader,
          `${follower.id} to serve ${k} (the write committed) before the leader is killed`,
        );
      else await sleep(round * 3); // the kill lands at a slightly different point of the write each round
      await c.kill(leader);
      await inFlight; // lost, failed or succeeded: the client cannot know
      await c.restart(leader);
      // With its Idempotency-Key the retry is safe whatever happened: sent (again) until a leader
      // answers with something other than "not applied".
      const answer = await c.leaderRequest('POST', `/kv/${k}/cas`, { expected: null, value: 'once' }, headers);
      expect(answer.status, `round ${round}: ${answer.text}`).toBe(200);
      expect(answer.body.swapped, `round ${round}`).toBe(true);
      if (afterCommit) expect(answer.headers.get('idempotent-replayed'), 'the retry of a committed write').toBe('true');
      expect((await c.leaderRequest('GET', `/kv/${k}`)).body.value).toBe('once');
    }
  });
});

// A real 3-node cluster on loopback: election, writes through any node, reads with each
// consistency, the error contract, and malformed HTTP and gRPC input.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raftProto } from '../../src/transport/proto.js';
import { TestCluster, type TestNode } from './harness.js';

let c: TestCluster;
let leader: TestNode;
let follower: TestNode;

beforeAll(async () => {
  c = await TestCluster.start(3);
  leader = await c.waitForLeader();
  follower = c.nodes.find((n) => n.id !== leader.id)!;
}, 30_000);
afterAll(() => c?.stop());

describe('a running cluster', () => {
  it('elects one leader that every node knows', async () => {
    // Followers learn who leads from its first append, a heartbeat after the election at most.
    const sts = await c.until(
      async () => {
        const all = await Promise.all(c.nodes.map((n) => c.status(n)));
        return all.every((s) => s?.leader === leader.id) && all;
      },
      2000,
      'every node to know the leader',
    );
    expect(sts.filter((s) => s.role === 'leader').map((s) => s.id)).toEqual([leader.id]);
    for (const s of sts) {
      expect(s.leader).toBe(leader.id);
      expect(s.members.voters.sort()).toEqual(['n1', 'n2', 'n3']);
      expect(Object.keys(s)).toEqual(
        expect.arrayContaining([
          'id',
          'role',
          'term',
          'leader',
          'commitIndex',
          'lastApplied',
          'lastLogIndex',
          'members',
        ]),
      );
    }
  });

  it('takes writes at the leader and at followers (forwarded), and reads them everywhere', async () => {
    const a = await c.put(leader, 'a', '1');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ key: 'a', value: '1', index: expect.any(Number) });
    expect(a.headers.get('x-raft-leader')).toBe(leader.id);

    const b = await c.put(follower, 'b', '2');
    expect(b.status).toBe(200);
    expect(b.headers.get('x-raft-forwarded-to')).toBe(leader.id);
    expect(b.body.index).toBeGreaterThan(a.body.index);

    for (const n of c.nodes) {
      const r = await c.get(n, 'b');
      expect(r.status, n.id).toBe(200);
      expect(r.body).toMatchObject({ key: 'b', value: '2' });
      expect(r.body.index).toBeGreaterThanOrEqual(b.body.index);
    }
    expect((await c.get(leader, 'b', '?consistency=lease')).body.value).toBe('2');
  });

  it('deletes, and compare-and-sets with 412 on a mismatch', async () => {
    await c.put(leader, 'cas', 'x');
    const bad = await c.request(follower, 'POST', '/kv/cas/cas', { expected: 'nope', value: 'y' });
    expect(bad.status).toBe(412);
    expect(bad.body).toMatchObject({ swapped: false, current: 'x' });
    const ok = await c.request(follower, 'POST', '/kv/cas/cas', { expected: 'x', value: 'y' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ swapped: true });
    const absent = await c.request(leader, 'POST', '/kv/fresh/cas', { expected: null, value: 'first' });
    expect(absent.body.swapped).toBe(true);
    expect((await c.request(leader, 'POST', '/kv/fresh/cas', { expected: null, value: 'second' })).status).toBe(412);
    const del = await c.request(follower, 'DELETE', '/kv/cas');
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ key: 'cas', existed: true });
    expect((await c.get(leader, 'cas')).status).toBe(404);
  });

  it('serves bounded-staleness reads only from a node that heard from the leader recently', async () => {
    const w = await c.put(leader, 's', 'v');
    // A stale read may miss a write made a moment ago, but it catches up within a heartbeat or two.
    const r = await c.until(
      async () => {
        const x = await c.get(follower, 's', '?consistency=stale&maxStalenessMs=2000');
        return x.status === 200 && x;
      },
      2000,
      'the follower to apply the write',
    );
    expect(r.body).toMatchObject({ key: 's', value: 'v' });
    expect(r.body.index).toBeGreaterThanOrEqual(w.body.index);
    const missing = await c.get(follower, 's', '?consistency=stale');
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('bad_request');
  });
});

describe('bad input gets a clear error, never a crash', () => {
  const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
    ['malformed JSON', () => c.request(leader, 'PUT', '/kv/k', '{"value": '), 400, 'bad_json'],
    ['a body without value', () => c.request(leader, 'PUT', '/kv/k', { val: 1 }), 400, 'bad_request'],
    ['a non-string value', () => c.request(leader, 'PUT', '/kv/k', { value: 42 }), 400, 'bad_value'],
    ['a JSON array body', () => c.request(leader, 'PUT', '/kv/k', [1, 2]), 400, 'bad_request'],
    ['an oversized value', () => c.request(leader, 'PUT', '/kv/k', { value: 'x'.repeat(70 * 1024) }), 413, 'bad_value'],
    [
      'an oversized body',
      () => c.request(leader, 'PUT', '/kv/k', { value: 'x', pad: 'y'.repeat(200 * 1024) }),
      413,
      'body_too_large',
    ],
    ['an overlong key', () => c.request(leader, 'GET', `/kv/${'k'.repeat(600)}`), 414, 'bad_key'],
    ['an unknown key', () => c.get(leader, 'never-written'), 404, 'key_not_found'],
    ['an unknown consistency', () => c.get(leader, 'a', '?consistency=eventual'), 400, 'bad_request'],
    [
      'a bad cas expected',
      () => c.request(leader, 'POST', '/kv/k/cas', { expected: 5, value: 'v' }),
      400,
      'bad_request',
    ],
    ['an unknown endpoint', () => c.request(leader, 'GET', '/nope'), 404, 'not_found'],
    ['bad chaos settings', () => c.request(leader, 'POST', '/admin/chaos', { dropRate: 7 }), 400, 'bad_chaos'],
  ];
  for (const [name, send, status, code] of cases) {
    it(`answers ${status} ${code} for ${name}`, async () => {
      const r = await send();
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message.length).toBeGreaterThan(10);
    });
  }

  it('refuses gRPC requests from another cluster, without a header, or with nonsense terms', async () => {
    const Client = raftProto().raft.Raft;
    const client = new Client(leader.grpc, credentials.createInsecure()) as any;
    // As a member would send them (authenticated): what is checked here is what comes after.
    const member = () => {
      const md = new Metadata();
      md.set('raft-from', follower.id);
      md.set('raft-cluster-secret', c.secret);
      return md;
    };
    const callAE = (req: object) =>
      new Promise<ServiceError | null>((ok) =>
        client.AppendEntries(req, member(), { deadline: Date.now() + 2000 }, (err: ServiceError | null) => ok(err)),
      );
    const header = { clusterId: 'raft-otel', from: follower.id, to: leader.id, term: 1 };
    const wrong = await callAE({ header: { ...header, clusterId: 'other' } });
    expect(wrong?.code).toBe(9); // FAILED_PRECONDITION
    expect(wrong?.details).toMatch(/wrong cluster/);
    const noHeader = await callAE({ prevLogIndex: 1 });
    expect(noHeader?.code).toBe(3); // INVALID_ARGUMENT
    const badTerm = await callAE({ header: { ...header, term: 9e15 }, prevLogIndex: 0, entries: [] });
    expect(badTerm?.code).toBe(3);
    expect(badTerm?.details).toMatch(/invalid term/);
    const badEntries = await callAE({ header, prevLogIndex: 0, entries: [{ index: 5, term: 1, type: 'normal' }] });
    expect(badEntries?.code).toBe(3);
    expect(badEntries?.details).toMatch(/expected 1/);
    const unknownType = await callAE({ header, entries: [{ index: 1, term: 1, type: 'weird' }] });
    expect(unknownType?.code).toBe(3);
    client.close();
    // Still healthy, and still the same leader.
    expect((await c.put(leader, 'after-garbage', 'ok')).status).toBe(200);
    expect((await c.status(leader)).role).toBe('leader');
  });

  it('keeps the admin API closed unless enabled, and behind a token when one is set', async () => {
    const closed = await TestCluster.start(1, { admin: false });
    try {
      const r = await closed.request(closed.nodes[0], 'POST', '/admin/chaos', { dropRate: 0.5 });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('admin_disabled');
    } finally {
      await closed.stop();
    }
    const guarded = await TestCluster.start(1, { extraArgs: ['--admin-token', 's3cret'] });
    try {
      const n = guarded.nodes[0];
      expect((await guarded.request(n, 'GET', '/admin/chaos')).status).toBe(401);
      expect(
        (await guarded.request(n, 'GET', '/admin/chaos', undefined, { authorization: 'Bearer s3cret' })).status,
      ).toBe(200);
    } finally {
      await guarded.stop();
    }
  });
});

// A real 3-node cluster on loopback: election, writes through any node, reads with each
// consistency, the error contract, and malformed HTTP and gRPC input.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raftProto } from '../../src/transport/proto.js';
import type { AppendEntriesRequest } from '../../src/transport/generated/raft/AppendEntriesRequest.js';
import { TestCluster, type ApiResponse, type TestNode } from './harness.js';

let c: TestCluster;

beforeAll(async () => {
  c = await TestCluster.start(3);
});
afterAll(() => c?.stop());

describe('a running cluster', () => {
  it('elects one leader that every node knows', async () => {
    await c.withSteadyLeader(async (leader) => {
      const sts = await Promise.all(c.nodes.map((n) => c.statusOf(n)));
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
  });

  it('takes writes at the leader and at followers (forwarded), and reads them everywhere', async () => {
    await c.withSteadyLeader(async (leader, attempt) => {
      const follower = c.nodes.find((n) => n.id !== leader.id)!;
      const a = await c.put(leader, `a${attempt}`, '1');
      expect(a.status).toBe(200);
      expect(Object.keys(a.body).sort()).toEqual(['index', 'key', 'value']);
      expect(a.body).toMatchObject({ key: `a${attempt}`, value: '1' });
      expect(a.body.index).toBeGreaterThan(0);
      expect(a.headers.get('x-raft-leader')).toBe(leader.id);

      const b = await c.put(follower, `b${attempt}`, '2');
      expect(b.status).toBe(200);
      expect(b.headers.get('x-raft-forwarded-to')).toBe(leader.id);
      expect(b.body.index).toBeGreaterThan(a.body.index!);

      for (const n of c.nodes) {
        const r = await c.get(n, `b${attempt}`);
        expect(r.status, n.id).toBe(200);
        expect(r.body).toMatchObject({ key: `b${attempt}`, value: '2' });
        expect(r.body.index).toBeGreaterThanOrEqual(b.body.index!);
      }
      expect((await c.get(leader, `b${attempt}`, '?consistency=lease')).body.value).toBe('2');
    });
  });

  it('deletes, and compare-and-sets with 412 on a mismatch', async () => {
    await c.withSteadyLeader(async (leader, attempt) => {
      const follower = c.nodes.find((n) => n.id !== leader.id)!;
      const key = `cas${attempt}`;
      expect((await c.put(leader, key, 'x')).status).toBe(200);
      const bad = await c.request(follower, 'POST', `/kv/${key}/cas`, { expected: 'nope', value: 'y' });
      expect(bad.status).toBe(412);
      expect(bad.body).toMatchObject({ swapped: false, current: 'x' });
      const ok = await c.request(follower, 'POST', `/kv/${key}/cas`, { expected: 'x', value: 'y' });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ swapped: true });
      const fresh = `/kv/fresh${attempt}/cas`;
      const absent = await c.request(leader, 'POST', fresh, { expected: null, value: 'first' });
      expect(absent.body.swapped).toBe(true);
      expect((await c.request(leader, 'POST', fresh, { expected: null, value: 'second' })).status).toBe(412);
      const del = await c.request(follower, 'DELETE', `/kv/${key}`);
      expect(del.status).toBe(200);
      expect(del.body).toMatchObject({ key, existed: true });
      expect((await c.get(leader, key)).status).toBe(404);
    });
  });

  it('serves bounded-staleness reads only from a node that heard from the leader recently', async () => {
    await c.withSteadyLeader(async (leader, attempt) => {
      const follower = c.nodes.find((n) => n.id !== leader.id)!;
      const key = `s${attempt}`;
      const w = await c.put(leader, key, 'v');
      expect(w.status).toBe(200);
      // A stale read may miss a write made a moment ago, but it catches up within a heartbeat or two.
      const r = await c.until(
        async () => {
          const x = await c.get(follower, key, '?consistency=stale&maxStalenessMs=2000');
          return x.status === 200 && x;
        },
        10_000,
        `${follower.id} to apply the write and serve it as a stale read`,
      );
      expect(r.body).toMatchObject({ key, value: 'v' });
      expect(r.body.index).toBeGreaterThanOrEqual(w.body.index!);
      const missing = await c.get(follower, key, '?consistency=stale');
      expect(missing.status).toBe(400);
      expect(missing.body.error?.code).toBe('bad_request');
    });
  });
});

describe('bad input gets a clear error, never a crash', () => {
  const cases: [string, (leader: TestNode) => Promise<ApiResponse>, number, string][] = [
    ['malformed JSON', (l) => c.request(l, 'PUT', '/kv/k', '{"value": '), 400, 'bad_json'],
    ['a body without value', (l) => c.request(l, 'PUT', '/kv/k', { val: 1 }), 400, 'bad_request'],
    ['a non-string value', (l) => c.request(l, 'PUT', '/kv/k', { value: 42 }), 400, 'bad_value'],
    ['a JSON array body', (l) => c.request(l, 'PUT', '/kv/k', [1, 2]), 400, 'bad_request'],
    ['an oversized value', (l) => c.request(l, 'PUT', '/kv/k', { value: 'x'.repeat(70 * 1024) }), 413, 'bad_value'],
    [
      'an oversized body',
      (l) => c.request(l, 'PUT', '/kv/k', { value: 'x', pad: 'y'.repeat(200 * 1024) }),
      413,
      'body_too_large',
    ],
    ['an overlong key', (l) => c.request(l, 'GET', `/kv/${'k'.repeat(600)}`), 414, 'bad_key'],
    ['an unknown key', (l) => c.get(l, 'never-written'), 404, 'key_not_found'],
    ['an unknown consistency', (l) => c.get(l, 'a', '?consistency=eventual'), 400, 'bad_request'],
    ['a bad cas expected', (l) => c.request(l, 'POST', '/kv/k/cas', { expected: 5, value: 'v' }), 400, 'bad_request'],
    ['an unknown endpoint', (l) => c.request(l, 'GET', '/nope'), 404, 'not_found'],
    ['bad chaos settings', (l) => c.request(l, 'POST', '/admin/chaos', { dropRate: 7 }), 400, 'bad_chaos'],
  ];
  for (const [name, send, status, code] of cases) {
    it(`answers ${status} ${code} for ${name}`, async () => {
      const r = await send(await c.waitForLeader());
      expect(r.status, r.text).toBe(status);
      expect(r.body.error?.code).toBe(code);
      expect(r.body.error?.message.length).toBeGreaterThan(10);
    });
  }

  it('refuses gRPC requests from another cluster, without a header, or with nonsense terms', async () => {
    // Not run again when leadership moves: a leader that steps down because of these calls is the
    // bug this test is for, and after the fact it looks like a move under load. The calls take
    // well under a second on a settled cluster, far less than an election timeout.
    {
      const leader = await c.settled();
      const term = (await c.statusOf(leader)).term;
      const follower = c.nodes.find((n) => n.id !== leader.id)!;
      const client = new (raftProto().raft.Raft)(leader.grpc, credentials.createInsecure());
      // As a member would send them (authenticated): what is checked here is what comes after.
      const member = () => {
        const md = new Metadata();
        md.set('raft-from', follower.id);
        md.set('raft-cluster-secret', c.secret);
        return md;
      };
      const callAE = (req: AppendEntriesRequest) =>
        new Promise<ServiceError | null>((ok) =>
          client.AppendEntries(req, member(), { deadline: Date.now() + 5000 }, (err) => ok(err)),
        );
      try {
        const header = { clusterId: 'raft-otel', from: follower.id, to: leader.id, term: 1 };
        const wrong = await callAE({ header: { ...header, clusterId: 'other' } });
        expect(wrong?.code).toBe(9); // FAILED_PRECONDITION
        expect(wrong?.details).toMatch(/wrong cluster/);
        const noHeader = await callAE({ prevLogIndex: 1 });
        expect(noHeader?.code).toBe(3); // INVALID_ARGUMENT
        const badTerm = await callAE({ header: { ...header, term: 9e15 }, prevLogIndex: 0, entries: [] });
        expect(badTerm?.code).toBe(3);
        expect(badTerm?.details).toMatch(/invalid term/);
        const badEntries = await callAE({
          header,
          prevLogIndex: 0,
          entries: [{ index: 5, term: 1, type: 'normal' }],
        });
        expect(badEntries?.code).toBe(3);
        expect(badEntries?.details).toMatch(/expected 1/);
        // An entry type the core does not know.
        const unknownType = await callAE({ header, entries: [{ index: 1, term: 1, type: 'weird' }] });
        expect(unknownType?.code).toBe(3);
      } finally {
        client.close();
      }
      // Still healthy, still the same leader in the same term: the nonsense term was not adopted.
      const st = await c.statusOf(leader);
      expect(st.term, 'the leader adopted a term from the garbage calls').toBeLessThan(1e6);
      expect(`${st.role} in term ${st.term}`, `${leader.id} after the garbage calls`).toBe(`leader in term ${term}`);
      const put = await c.put(leader, 'after-garbage', 'ok');
      expect(put.status, put.text).toBe(200);
    }
  });

  it('keeps the admin API closed unless enabled, and behind a token when one is set', async () => {
    const closed = await TestCluster.start(1, { admin: false });
    try {
      const r = await closed.request(closed.nodes[0], 'POST', '/admin/chaos', { dropRate: 0.5 });
      expect(r.status).toBe(403);
      expect(r.body.error?.code).toBe('admin_disabled');
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

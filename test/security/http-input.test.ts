// What a client (or any local process) can do through the HTTP API (issue 9, cases 3, 5, 7 and
// 8), on real processes: mistakes are 4xx with the documented error shape, a refused membership
// change changes nothing, every read ends by the request timeout, and internal headers are not
// honoured from clients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster, type TestNode } from '../cluster/harness.js';

let c: TestCluster;
const REQUEST_TIMEOUT_MS = 1500;

beforeAll(async () => {
  // Long election timeouts (1-2 s) keep a follower's leader in place for the read-deadline case.
  c = await TestCluster.start(3, {
    extraArgs: ['--election-ticks', '100', '--request-timeout-ms', String(REQUEST_TIMEOUT_MS)],
  });
}, 60_000);
afterAll(() => c?.stop());

interface ErrorBody {
  error?: { code?: string; message?: string };
}

async function raw(node: TestNode, method: string, path: string, headers: Record<string, string>, body?: string) {
  const r = await fetch(`http://${node.http}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  let json: ErrorBody | null = null;
  try {
    json = JSON.parse(text) as ErrorBody;
  } catch {
    /* asserted below */
  }
  return { status: r.status, json, text };
}

describe('client mistakes are 4xx with the documented error shape (case 7)', () => {
  const json = { 'content-type': 'application/json' };
  const body = '{"value":"x"}';
  const cases: [string, string, string, Record<string, string>, string | undefined, number, string][] = [
    ['bad percent-encoding', 'GET', '/kv/%zz', {}, undefined, 400, 'bad_path'],
    ['a lone %ff byte', 'PUT', '/kv/%ff', json, body, 400, 'bad_path'],
    ['overlong UTF-8 (%C0%AE)', 'GET', '/kv/%C0%AE', {}, undefined, 400, 'bad_path'],
    [
      'a lock name with bad encoding',
      'POST',
      '/locks/%zz/acquire',
      json,
      '{"owner":"a","ttlMs":1000}',
      400,
      'bad_path',
    ],
    [
      'an unsupported charset',
      'PUT',
      '/kv/a',
      { 'content-type': 'application/json; charset=koi8-r' },
      body,
      415,
      'unsupported_charset',
    ],
    [
      'an unknown Content-Encoding',
      'PUT',
      '/kv/a',
      { ...json, 'content-encoding': 'zstd-ish' },
      body,
      415,
      'unsupported_encoding',
    ],
    [
      'a body that is not the gzip it claims',
      'PUT',
      '/kv/a',
      { ...json, 'content-encoding': 'gzip' },
      body,
      400,
      'bad_request',
    ],
    [
      'a body that is not the deflate it claims',
      'PUT',
      '/kv/a',
      { ...json, 'content-encoding': 'deflate' },
      body,
      400,
      'bad_request',
    ],
  ];
  for (const [what, method, path, headers, b, status, code] of cases) {
    it(what, async () => {
      const leader = await c.waitForLeader();
      const r = await raw(leader, method, path, headers, b);
      expect(r.status, r.text).toBe(status);
      expect(r.json?.error?.code, r.text).toBe(code);
      expect(typeof r.json?.error?.message).toBe('string');
    });
  }
});

describe('admin changes validate before they commit anything (case 3)', () => {
  it("a refused add of an existing member leaves that member's address alone", async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n.id !== leader.id)!;
    const r = await c.request(leader, 'POST', '/admin/members/add', {
      id: follower.id,
      grpc: '127.0.0.1:1',
      http: '127.0.0.1:2',
    });
    expect(r.status, r.text).toBe(409);
    expect((r.body as ErrorBody).error?.message).toMatch(/already a member.*nothing was changed/);
    // The follower still gets every write: the leader still sends to its real address.
    expect((await c.put(leader, 'still-reached', 'yes')).status).toBe(200);
    await c.until(
      async () => (await c.get(follower, 'still-reached', '?consistency=stale&maxStalenessMs=5000')).status === 200,
      5000,
      `${follower.id} to receive a write made after the refused add`,
    );
    // Nor can a new id take an existing member's address.
    const taken = await c.request(leader, 'POST', '/admin/members/add', {
      id: 'n9',
      grpc: follower.grpc,
      http: '127.0.0.1:2',
    });
    expect(taken.status, taken.text).toBe(409);
    expect((taken.body as ErrorBody).error?.code).toBe('address_in_use');
  });
});

describe('every wait has a deadline (case 5)', () => {
  it('a linearizable read at a follower that cannot catch up ends in 503 by the request timeout', async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n.id !== leader.id)!;
    // The leader can no longer send to the follower; the follower can still ask it for a read index.
    const cut = await c.request(leader, 'POST', '/admin/chaos', { cutOut: [follower.id] });
    expect(cut.status).toBe(200);
    try {
      expect((await c.put(leader, 'unreachable', 'v')).status).toBe(200);
      const t0 = Date.now();
      const r = await c.get(follower, 'unreachable');
      const took = Date.now() - t0;
      expect(r.status, r.text).toBe(503);
      expect((r.body as ErrorBody).error?.code).toBe('read_unavailable');
      expect(r.headers.get('retry-after')).toBe('1');
      expect(took).toBeLessThan(REQUEST_TIMEOUT_MS + 1000);
    } finally {
      await c.request(leader, 'POST', '/admin/chaos', { cutOut: [] });
    }
  });
});

describe('internal headers are not honoured from clients (case 8)', () => {
  it('a client-sent X-Raft-Forwarded-By does not stop a follower from forwarding the write', async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n.id !== leader.id)!;
    await c.until(
      async () => (await c.status(follower))?.leader === leader.id,
      10_000,
      `${follower.id} to know leader ${leader.id}`,
    );
    for (const headers of <Record<string, string>[]>[
      { 'X-Raft-Forwarded-By': 'n9' },
      { 'X-Raft-Forwarded-By': leader.id, 'X-Raft-Forward-Proof': 'f'.repeat(64) },
    ]) {
      const r = await c.request(follower, 'PUT', '/kv/spoofed', { value: 'v' }, headers);
      expect(r.status, r.text).toBe(200);
      expect(r.headers.get('x-raft-forwarded-to')).toBe(leader.id);
    }
    // Nodes forward over gRPC (raft.Raft/Forward, authenticated as every peer call): test/cluster/forward.test.ts.
    const plain = await c.request(follower, 'PUT', '/kv/plain', { value: 'v' });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-raft-forwarded-to')).toBe(leader.id);
  });
});

// Writes through a follower (issue 14): the follower forwards the command to the leader over the
// peers' gRPC channel (raft.Raft/Forward) instead of a second HTTP request. What a client relies on
// stays the same: the write is applied once, Idempotency-Key and X-Fencing-Token work through any
// node, and when the leader is gone the error says the write was not applied. The RPC itself is
// authenticated like every peer call and never makes a second hop.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForwardReply__Output } from '../../src/transport/generated/raft/ForwardReply.js';
import { raftProto } from '../../src/transport/proto.js';
import { TestCluster, type TestNode } from './harness.js';

let c: TestCluster;

beforeAll(async () => {
  // Election timeouts of 2-4 s: after the leader is killed, its followers still name it for long
  // enough to forward a write to it (the last case).
  c = await TestCluster.start(3, { extraArgs: ['--election-ticks', '200'] });
}, 60_000);
afterAll(() => c?.stop());

/** A leader and a follower that names it as leader. */
async function pair(): Promise<{ leader: TestNode; follower: TestNode; other: TestNode }> {
  const leader = await c.settled();
  const [follower, other] = c.nodes.filter((n) => n.id !== leader.id);
  await c.until(
    async () => (await c.status(follower))?.leader === leader.id,
    10_000,
    `${follower.id} to name ${leader.id} as its leader`,
  );
  return { leader, follower, other };
}

describe('a write through a follower', () => {
  it('is forwarded to the leader, applied once and readable on every node', async () => {
    const { leader, follower } = await pair();
    const before = (await c.statusOf(leader)).lastLogIndex;
    const r = await c.request(follower, 'PUT', '/kv/via-follower', { value: 'hello' });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ key: 'via-follower', value: 'hello' });
    expect(r.body.index).toBeGreaterThan(before);
    expect(r.headers.get('x-raft-forwarded-to')).toBe(leader.id);
    expect(r.headers.get('x-raft-leader')).toBe(leader.id);
    expect(r.headers.get('x-raft-node')).toBe(follower.id);
    for (const n of c.nodes) {
      const g = await c.get(n, 'via-follower');
      expect(g.body.value, `read at ${n.id}`).toBe('hello');
    }
    // DELETE and CAS take the same path.
    const cas = await c.request(follower, 'POST', '/kv/via-follower/cas', { expected: 'hello', value: 'bye' });
    expect(cas.status, cas.text).toBe(200);
    expect(cas.body).toMatchObject({ swapped: true });
    const lost = await c.request(follower, 'POST', '/kv/via-follower/cas', { expected: 'hello', value: 'x' });
    expect(lost.status, lost.text).toBe(412);
    expect(lost.body).toMatchObject({ swapped: false, current: 'bye' });
    const del = await c.request(follower, 'DELETE', '/kv/via-follower');
    expect(del.status, del.text).toBe(200);
    expect((await c.get(leader, 'via-follower')).status).toBe(404);
  });

  it('keeps Idempotency-Key semantics: a retry through any node answers the first result', async () => {
    const { leader, follower, other } = await pair();
    const key = { 'Idempotency-Key': 'forward-idem-1' };
    const first = await c.request(follower, 'PUT', '/kv/idem', { value: 'one' }, key);
    expect(first.status, first.text).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    for (const n of [follower, other, leader]) {
      const again = await c.request(n, 'PUT', '/kv/idem', { value: 'one' }, key);
      expect(again.status, `${n.id}: ${again.text}`).toBe(200);
      expect(again.body.index, `replay at ${n.id}`).toBe(first.body.index);
      expect(again.headers.get('idempotent-replayed'), n.id).toBe('true');
    }
    // The same key for another request is refused, through a follower as at the leader.
    const reused = await c.request(follower, 'PUT', '/kv/idem', { value: 'two' }, key);
    expect(reused.status, reused.text).toBe(422);
    expect(reused.body.error?.code).toBe('idempotency_key_reused');
    expect((await c.get(leader, 'idem')).body.value).toBe('one');
    const tooLong = await c.request(
      follower,
      'PUT',
      '/kv/idem',
      { value: 'x' },
      { 'Idempotency-Key': 'k'.repeat(300) },
    );
    expect(tooLong.status, tooLong.text).toBe(400);
    expect(tooLong.body.error?.code).toBe('bad_idempotency_key');
  });

  it('keeps fencing tokens: a write with a superseded token is refused (409)', async () => {
    const { follower } = await pair();
    const lock = '/locks/forward-fence';
    const a = await c.request(follower, 'POST', `${lock}/acquire`, { owner: 'a', ttlMs: 30_000 });
    expect(a.status, a.text).toBe(200);
    const oldToken = a.body.token!;
    const ok = await c.request(
      follower,
      'PUT',
      '/kv/fenced',
      { value: 'a' },
      { 'X-Fencing-Token': `forward-fence:${oldToken}` },
    );
    expect(ok.status, ok.text).toBe(200);
    expect((await c.request(follower, 'POST', `${lock}/release`, { owner: 'a', token: oldToken })).status).toBe(200);
    const b = await c.request(follower, 'POST', `${lock}/acquire`, { owner: 'b', ttlMs: 30_000 });
    expect(b.status, b.text).toBe(200);
    expect(b.body.token!).toBeGreaterThan(oldToken);
    const newer = await c.request(
      follower,
      'PUT',
      '/kv/fenced',
      { value: 'b' },
      { 'X-Fencing-Token': `forward-fence:${b.body.token!}` },
    );
    expect(newer.status, newer.text).toBe(200);
    const stale = await c.request(
      follower,
      'PUT',
      '/kv/fenced',
      { value: 'late' },
      { 'X-Fencing-Token': `forward-fence:${oldToken}` },
    );
    expect(stale.status, stale.text).toBe(409);
    expect(stale.body.error?.code).toBe('fenced');
    const bad = await c.request(follower, 'PUT', '/kv/fenced', { value: 'x' }, { 'X-Fencing-Token': 'nonsense' });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('bad_fencing_token');
  });
});

describe('the Forward RPC', () => {
  const call = (to: TestNode, from: string, command: string, md: Metadata) => {
    const client = new (raftProto().raft.Raft)(to.grpc, credentials.createInsecure());
    return new Promise<{ err: ServiceError | null; reply?: ForwardReply__Output }>((done) =>
      client.Forward(
        { header: { clusterId: 'raft-otel', from, to: to.id, term: 0 }, command },
        md,
        { deadline: Date.now() + 5000 },
        (err, reply) => {
          client.close();
          done({ err, reply });
        },
      ),
    );
  };
  const member = (from: string, secret = c.secret) => {
    const md = new Metadata();
    md.set('raft-from', from);
    md.set('raft-cluster-secret', secret);
    return md;
  };
  const put = (key: string) => JSON.stringify({ op: 'put', key, value: 'forged' });

  it('is refused without the cluster secret, before anything is applied', async () => {
    const { leader, follower } = await pair();
    for (const md of [new Metadata(), member(follower.id, 'not-the-cluster-secret-at-all')]) {
      const { err } = await call(leader, follower.id, put('unauthenticated'), md);
      expect(err?.code).toBe(16); // UNAUTHENTICATED
    }
    // Authenticated as one node but claiming to be another: refused too.
    const { err } = await call(leader, 'n9', put('unauthenticated'), member(follower.id));
    expect(err?.code).toBe(7); // PERMISSION_DENIED
    expect((await c.get(leader, 'unauthenticated')).status).toBe(404);
  });

  it('is served by the leader only: a node that does not lead answers not_leader (no second hop)', async () => {
    const { leader, follower, other } = await pair();
    const { err, reply } = await call(follower, other.id, put('second-hop'), member(other.id));
    expect(err).toBeNull();
    expect(reply?.errorStatus).toBe(503);
    expect(reply?.errorCode).toBe('not_leader');
    expect(JSON.parse(reply?.errorExtra ?? '{}')).toEqual({ leader: leader.id });
    expect((await c.get(leader, 'second-hop')).status).toBe(404);
    // The leader applies a well-formed command, and refuses a malformed one as the API would.
    const ok = await call(leader, follower.id, put('forwarded-by-hand'), member(follower.id));
    expect(ok.reply?.errorStatus, ok.reply?.errorMessage).toBe(0);
    expect(JSON.parse(ok.reply?.result ?? 'null')).toMatchObject({ op: 'put', key: 'forwarded-by-hand' });
    expect((await c.get(leader, 'forwarded-by-hand')).body.value).toBe('forged');
    for (const bad of [
      'not json',
      JSON.stringify({ op: 'register_member', id: 'x' }),
      JSON.stringify({ op: 'put', key: '' }),
    ]) {
      const r = await call(leader, follower.id, bad, member(follower.id));
      expect(r.reply?.errorStatus, bad).toBe(400);
      expect(r.reply?.errorCode, bad).toBe('bad_request');
    }
  });
});

describe('when the leader is gone', () => {
  it('a write through a follower fails with 503 leader_unreachable, and was not applied', async () => {
    const { leader, follower } = await pair();
    await c.kill(leader);
    const st = await c.statusOf(follower);
    expect(st.leader, `${follower.id} must still name the killed leader for this case`).toBe(leader.id);
    const r = await c.request(follower, 'PUT', '/kv/after-leader-died', { value: 'x' });
    expect(r.status, r.text).toBe(503);
    expect(r.body.error?.code).toBe('leader_unreachable');
    expect(r.body.error).toMatchObject({ leader: leader.id });
    expect(r.headers.get('retry-after')).toBe('1');
    expect(r.headers.get('x-raft-forwarded-to')).toBe(leader.id);
    // A new leader is elected among the survivors; the write is not there.
    const survivor = await c.waitForLeader();
    expect((await c.get(survivor, 'after-leader-died')).status).toBe(404);
  });
});

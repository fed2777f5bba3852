// Peers that cannot hurt the cluster (issue 9, cases 1, 2 and 6), on real processes: a process
// that is not a member reaches every node's gRPC port and tries what an attacker would. Without
// the cluster secret nothing it sends has any effect, and nothing it sends is even decoded.
import { status as grpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeStatus } from '../../src/api/status.js';
import { TestCluster, type TestNode } from '../cluster/harness.js';
import { forge, forgePipe, forgeRaw } from './forge.js';

let c: TestCluster;
const KEYS = 50;

beforeAll(async () => {
  c = await TestCluster.start(3);
  // To whoever leads when each write is sent: a cluster that has just started may still change
  // leader (what this file tests comes after, with the keys in place).
  for (let i = 0; i < KEYS; i++) {
    const r = await c.leaderRequest('PUT', `/kv/k${i}`, { value: `v${i}` });
    expect(r.status, r.text).toBe(200);
  }
}, 60_000);
afterAll(() => c?.stop());

const status = async (n: TestNode) => (await c.status(n)) as NodeStatus;
const header = (to: TestNode, term: number, from = 'zz') => ({ clusterId: 'raft-otel', from, to: to.id, term });
/** An AppendEntries heartbeat as proto/raft.proto shapes it. */
const heartbeat = (to: TestNode, term: number, from = 'zz') => ({
  header: header(to, term, from),
  prevLogIndex: 0,
  prevLogTerm: 0,
  entries: [],
  leaderCommit: 0,
  seq: 1,
  heartbeat: true,
});

/** Every node still serves every acknowledged key with a linearizable read. */
async function everyKeyEverywhere(): Promise<void> {
  for (const n of c.nodes) {
    for (const i of [0, KEYS / 2, KEYS - 1]) {
      const r = await c.get(n, `k${i}`);
      expect(r.status, `${n.id} GET k${i}: ${r.text}`).toBe(200);
      expect((r.body as { value?: string }).value).toBe(`v${i}`);
    }
  }
}

describe('a non-member without the cluster secret', () => {
  it('cannot replace any node state with a forged InstallSnapshot (case 1)', async () => {
    const before = await Promise.all(c.nodes.map(status));
    const term = Math.max(...before.map((s) => s.term));
    for (const n of c.nodes) {
      for (const secret of [undefined, 'not-the-secret-0123456789']) {
        const r = await forge(
          n.grpc,
          'InstallSnapshot',
          {
            header: header(n, term + 1),
            snapshot: { index: 100_000, term: term + 1, conf: { voters: ['zz'], learners: [] }, data: '[]' },
            seq: 1,
          },
          { secret },
        );
        expect(r.code, `${n.id}: ${r.details}`).toBe(grpcStatus.UNAUTHENTICATED);
        expect(r.details).toMatch(secret ? /wrong cluster secret/ : /no cluster secret/);
        expect(r.details).not.toContain(c.secret);
      }
    }
    const after = await Promise.all(c.nodes.map(status));
    expect(after.map((s) => s.term)).toEqual(before.map((s) => s.term));
    await everyKeyEverywhere();
  });

  it('cannot append a forged entry, raise the term or depose the leader (case 2)', async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n.id !== leader.id)!;
    const { term, commitIndex } = await status(follower);
    // A forged entry at the end of the follower's log, from a made-up leader.
    const evil = await forge(follower.grpc, 'AppendEntries', {
      header: header(follower, term + 1),
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [{ index: 1, term: term + 1, type: 'normal', data: '{"op":"put","key":"forged","value":"evil"}' }],
      leaderCommit: commitIndex + 1,
      seq: 1,
      heartbeat: false,
    });
    expect(evil.code).toBe(grpcStatus.UNAUTHENTICATED);
    // A heartbeat at the largest term JavaScript can represent, to every node; then term+1.
    for (const t of [Number.MAX_SAFE_INTEGER, term + 1]) {
      for (const n of c.nodes) {
        const hb = await forge(n.grpc, 'AppendEntries', heartbeat(n, t));
        expect(hb.code, `${n.id} term ${t}`).toBe(grpcStatus.UNAUTHENTICATED);
      }
    }
    const now = await Promise.all(c.nodes.map(status));
    expect(now.map((s) => s.term)).toEqual(now.map(() => term));
    expect(now.every((s) => s.leader === leader.id)).toBe(true);
    const forged = await c.get(follower, 'forged', '?consistency=stale&maxStalenessMs=5000');
    expect(forged.status).toBe(404);
    expect((await c.put(leader, 'after-forgery', 'ok')).status).toBe(200);
    await everyKeyEverywhere();
  });

  it('has its calls refused before their bytes are decoded, large or not protobuf at all (case 6)', async () => {
    const leader = await c.waitForLeader();
    const { term } = await status(leader);
    // Not protobuf: a node that decoded first would answer INTERNAL ("Error deserializing").
    const junk = await forgeRaw(leader.grpc, 'AppendEntries', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect(junk.code, junk.details).toBe(grpcStatus.UNAUTHENTICATED);
    // Twelve 27 MB messages at once (the flood): refused from their headers, and the
    // cluster keeps its leader and its term while they arrive.
    const big = Buffer.alloc(27 * 1024 * 1024, 0x41);
    const flood = Promise.all(Array.from({ length: 12 }, () => forgeRaw(leader.grpc, 'AppendEntries', big)));
    const during = await c.put(leader, 'during-flood', 'ok');
    const results = await flood;
    const refused: number[] = [grpcStatus.UNAUTHENTICATED, grpcStatus.CANCELLED];
    expect(results.map((r) => r.code).filter((code) => !refused.includes(code))).toEqual([]);
    expect(during.status).toBe(200);
    const after = await status(leader);
    expect(after.role).toBe('leader');
    expect(after.term).toBe(term);
    expect(c.log(leader)).toMatch(/"event":"peer_refused"/);
    expect(c.log(leader)).not.toContain(c.secret);
  }, 60_000);

  it('has a Pipe refused from its headers, before any frame on it is read', async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n.id !== leader.id)!;
    const { term } = await status(follower);
    const pipe = await forgePipe(follower.grpc, [
      {
        metadata: {},
        request: heartbeat(follower, term + 5, leader.id),
      },
    ]);
    expect(pipe.code, pipe.details).toBe(grpcStatus.UNAUTHENTICATED);
    expect(pipe.answers).toEqual([]);
    expect((await status(follower)).term).toBe(term);
  });
});

describe('a member (it has the secret) sending what the core cannot represent', () => {
  it('is refused at the edge: a term of 2^53-1 changes nothing, through a restart (case 2)', async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n.id !== leader.id)!;
    const { term } = await status(follower);
    for (const t of [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, 2 ** 52 + 1]) {
      const hb = await forge(follower.grpc, 'AppendEntries', heartbeat(follower, t, leader.id), { secret: c.secret });
      expect(hb.code, `term ${t}`).toBe(grpcStatus.INVALID_ARGUMENT);
      expect(hb.details).toMatch(/invalid term/);
    }
    // The secret vouches for the sender named in raft-from; a message from another is refused.
    const spoof = await forge(follower.grpc, 'AppendEntries', heartbeat(follower, term, leader.id), {
      secret: c.secret,
      claim: 'n9',
    });
    expect(spoof.code).toBe(grpcStatus.PERMISSION_DENIED);
    // The same on a Pipe: the stream is authenticated as n9; a frame naming the leader as its
    // sender, in its metadata and in its message, is refused, and a frame's bad term as well.
    const piped = await forgePipe(
      follower.grpc,
      [{ metadata: { 'raft-from': leader.id }, request: heartbeat(follower, term, leader.id) }],
      {
        secret: c.secret,
        claim: 'n9',
      },
    );
    expect(piped.answers.map((a) => a.code)).toEqual([grpcStatus.PERMISSION_DENIED]);
    const huge = await forgePipe(
      follower.grpc,
      [{ metadata: {}, request: heartbeat(follower, Number.MAX_SAFE_INTEGER, leader.id) }],
      {
        secret: c.secret,
        claim: leader.id,
      },
    );
    expect(huge.answers.map((a) => [a.code, a.details])).toEqual([
      [grpcStatus.INVALID_ARGUMENT, expect.stringMatching(/invalid term/)],
    ]);
    expect((await status(follower)).term).toBe(term);
    await c.kill(follower);
    await c.restart(follower);
    const back = await c.leaderRequest('PUT', '/kv/after-restart', { value: 'ok' });
    expect(back.status, back.text).toBe(200);
    expect((await status(back.node)).term).toBeLessThan(2 ** 52);
    await c.until(
      async () => (await c.get(follower, 'after-restart', '?consistency=stale&maxStalenessMs=5000')).status === 200,
      10_000,
      `${follower.id} to serve after-restart`,
    );
  }, 60_000);
});

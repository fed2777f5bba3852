// The rest of the trace model on a real cluster: leadership transfer, snapshots and
// InstallSnapshot, locks and fenced writes, injected faults, slow disks, membership changes.
//
// Every span an assertion reads is waited for first (spans arrive in batches from three
// processes, in any order), and every request goes to a node that serves and knows its leader.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, DEADLINES, NOT_APPLIED, TestCluster, type TestNode } from '../cluster/harness.js';
import { CLIENT, OtlpReceiver, SERVER } from './receiver.js';

let rx: OtlpReceiver;
let c: TestCluster;

beforeAll(async () => {
  rx = new OtlpReceiver();
  await rx.start();
  c = await TestCluster.start(3, { env: rx.env() });
});
afterAll(async () => {
  await c?.stop();
  await rx?.stop();
});

/** A leader that has committed in its term, with every running node caught up to it. */
async function settledLeader(): Promise<TestNode> {
  const w = await c.leaderRequest('PUT', '/kv/settle', { value: 'x' });
  expect(w.status, w.text).toBe(200);
  await c.until(
    async () => {
      const all = await Promise.all(c.nodes.filter((n) => n.proc).map((n) => c.status(n)));
      return all.every((st) => st && st.lastApplied >= w.body.index!);
    },
    DEADLINES.leader,
    `every node to apply index ${w.body.index}`,
  );
  return c.settled();
}

/** Sends an admin request and checks that the node took it. */
async function admin(node: TestNode, path: string, body: object) {
  const r = await c.request(node, 'POST', path, body);
  expect(r.status, `${path} on ${node.id}: ${r.text}`).toBe(200);
}

describe('more of the trace model', () => {
  it('a leadership transfer: raft.transfer_leadership with its TimeoutNow call, then a transfer election', async () => {
    // The transfer itself ends the leader's term, so a failure here is never "leadership moved":
    // the request is sent again only when the answer says it was not taken (the node was no longer
    // leader when it arrived), to the leader of the moment.
    let sent: { leader: TestNode; target: TestNode; r: ApiResponse } | undefined;
    for (let attempt = 1; !sent; attempt++) {
      const leader = await settledLeader();
      const target = c.nodes.find((n) => n.id !== leader.id)!;
      const r = await c.request(leader, 'POST', '/admin/transfer-leadership', { to: target.id });
      if (NOT_APPLIED.has(r.body.error?.code ?? '') && attempt < 3) continue;
      sent = { leader, target, r };
    }
    const { leader, target, r } = sent;
    expect(r.status, r.text).toBe(200);
    expect(r.body.leader, r.text).toBe(target.id);
    // Every node comes to know the target as leader (a wait with a deadline, not an assumption).
    expect((await c.settled()).id).toBe(target.id);
    const transfer = await rx.waitFor('the transfer span', () =>
      rx.spans.find((s) => s.name === 'raft.transfer_leadership' && s.service === `raft-${leader.id}`),
    );
    expect(transfer.attrs['raft.transfer.target']).toBe(target.id);
    const timeoutNow = await rx.waitFor('TimeoutNow', () =>
      rx.trace(transfer.traceId).find((s) => s.name === 'raft.Raft/TimeoutNow' && s.kind === CLIENT),
    );
    expect(timeoutNow.parentSpanId).toBe(transfer.spanId);
    await rx.waitFor('the TimeoutNow SERVER span on the target', () =>
      rx
        .trace(transfer.traceId)
        .find((s) => s.name === 'raft.Raft/TimeoutNow' && s.kind === SERVER && s.service === `raft-${target.id}`),
    );
    const election = await rx.waitFor('the transfer election', () =>
      rx.spans.find(
        (s) =>
          s.name === 'raft.election' &&
          s.service === `raft-${target.id}` &&
          s.events.some((e) => e.includes('leadership transfer')),
      ),
    );
    expect(election.attrs['raft.election.outcome']).toBe('won');
  });

  it('locks and fenced writes show on raft.apply; injected delays and slow fsyncs show on their spans', async () => {
    const leader = await settledLeader();
    for (const n of c.nodes) await admin(n, '/admin/chaos', { delayMs: [2, 5] });
    await admin(leader, '/admin/disk', { slowFsyncMs: 30 });
    const a = await c.leaderRequest('POST', '/locks/L/acquire', { owner: 'a', ttlMs: 200 });
    expect(a.status, a.text).toBe(200);
    // The 200 ms lease runs out by log time (the leader's clock as of each command): b asks until
    // it is free.
    const b = await c.until(
      async () => {
        const r = await c.request(await c.waitForLeader(), 'POST', '/locks/L/acquire', { owner: 'b', ttlMs: 60_000 });
        return r.status === 200 && r;
      },
      DEADLINES.leader,
      "b to get lock L once a's 200 ms lease ran out",
    );
    const fenced = await c.leaderRequest(
      'PUT',
      '/kv/guarded',
      { value: 'late' },
      { 'x-fencing-token': `L:${a.body.token}` },
    );
    expect(fenced.status, fenced.text).toBe(409);
    for (const n of c.nodes) await admin(n, '/admin/chaos', { delayMs: [0, 0] });
    await admin(leader, '/admin/disk', { slowFsyncMs: 0 });

    const acquired = await rx.waitFor('the apply span of the acquire', () =>
      rx
        .trace(b.headers.get('x-trace-id') ?? '')
        .find((s) => s.name === 'raft.apply' && s.attrs['raft.lock.token'] === b.body.token),
    );
    expect(acquired.attrs['raft.op']).toBe('lock_acquire');
    const fencedTrace = fenced.headers.get('x-trace-id') ?? '';
    const refused = await rx.waitFor('the apply span of the fenced write', () =>
      rx.trace(fencedTrace).find((s) => s.name === 'raft.apply' && s.attrs['raft.result.code'] === 'fenced'),
    );
    expect(refused.events).toContain('fenced');
    const propose = await rx.waitFor('the propose span of the fenced write', () =>
      rx.trace(fencedTrace).find((s) => s.name === 'raft.propose'),
    );
    expect(propose.attrs).toMatchObject({ 'raft.fence.lock': 'L', 'raft.fence.token': a.body.token });
    const delayed = await rx.waitFor('a delayed RPC', () =>
      rx.spans.find((s) => s.kind === CLIENT && s.events.some((e) => /^chaos: delayed \d+ ms$/.test(e))),
    );
    expect(delayed.name).toMatch(/^raft\.Raft\//);
    const slow = await rx.waitFor(`a slow fsync on ${leader.id}`, () =>
      rx.spans.find(
        (s) =>
          s.name === 'raft.persist' &&
          s.service === `raft-${leader.id}` &&
          Number(s.attrs['raft.fsync.duration_ms']) >= 30,
      ),
    );
    expect(slow.attrs['raft.fsync.duration_ms']).toBeGreaterThanOrEqual(30);
  });

  it('snapshots, and InstallSnapshot to a follower that fell behind them', async () => {
    const leader = await settledLeader();
    const lagging = c.nodes.find((n) => n.id !== leader.id)!;
    await c.kill(lagging);
    for (let i = 0; i < 5; i++) {
      const r = await c.leaderRequest('PUT', `/kv/s${i}`, { value: `${i}` });
      expect(r.status, r.text).toBe(200);
    }
    const snap = await c.leaderRequest('POST', '/admin/snapshot');
    expect(snap.status, snap.text).toBe(200);
    await rx.waitFor('the snapshot span', () =>
      rx.spans.find(
        (s) =>
          s.name === 'raft.snapshot' &&
          s.service === `raft-${snap.node.id}` &&
          s.attrs['raft.snapshot.index'] === snap.body.index,
      ),
    );
    await c.restart(lagging);
    const install = await rx.waitFor(`InstallSnapshot to ${lagging.id}`, () =>
      rx.spans.find(
        (s) => s.name === 'raft.Raft/InstallSnapshot' && s.kind === SERVER && s.service === `raft-${lagging.id}`,
      ),
    );
    // The leader's CLIENT span ends after the reply, so it may arrive in a later batch.
    const client = await rx.waitFor('the InstallSnapshot CLIENT span', () =>
      rx.spans.find((s) => s.spanId === install.parentSpanId),
    );
    expect(client.kind).toBe(CLIENT);
    expect(client.service).toMatch(/^raft-n\d$/);
    expect(client.service).not.toBe(`raft-${lagging.id}`);
    expect(install.attrs['raft.snapshot.index']).toBeGreaterThanOrEqual(snap.body.index!);
  });

  it('a membership change is a span on every node that applies it', async () => {
    const leader = await settledLeader();
    const victim = c.nodes.find((n) => n.id !== leader.id)!;
    const r = await c.leaderRequest('POST', '/admin/members/remove', { id: victim.id });
    expect(r.status, r.text).toBe(200);
    const changes = await rx.waitFor('membership spans from at least two nodes', () => {
      const found = rx.spans.filter(
        (s) => s.name === 'raft.membership_change' && s.attrs['raft.membership.node'] === victim.id,
      );
      return new Set(found.map((s) => s.service)).size >= 2 && found;
    });
    expect(changes[0].attrs['raft.membership.change']).toBe('remove');
    expect(changes[0].attrs['raft.voters']).not.toContain(victim.id);
  });
});

// The rest of the trace model on a real cluster: leadership transfer, snapshots and
// InstallSnapshot, locks and fenced writes, injected faults, slow disks, membership changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../cluster/harness.js';
import { CLIENT, OtlpReceiver, SERVER, waitFor } from './receiver.js';

let rx: OtlpReceiver;
let c: TestCluster;

beforeAll(async () => {
  rx = new OtlpReceiver();
  await rx.start();
  c = await TestCluster.start(3, { env: rx.env() });
}, 30_000);
afterAll(async () => {
  await c?.stop();
  await rx?.stop();
});

/** A leader that has committed in its term, with every running node caught up to it. */
async function settledLeader() {
  const leader = await c.waitForLeader();
  expect((await c.put(leader, 'settle', 'x')).status).toBe(200);
  const target = (await c.status(leader)).commitIndex;
  await c.until(
    async () => {
      const all = await Promise.all(c.nodes.filter((n) => n.proc).map((n) => c.status(n)));
      return all.every((st) => st && st.lastApplied >= target);
    },
    5000,
    'every node to catch up',
  );
  return leader;
}

describe('more of the trace model', () => {
  it('a leadership transfer: raft.transfer_leadership with its TimeoutNow call, then a transfer election', async () => {
    const leader = await settledLeader();
    const target = c.nodes.find((n) => n.id !== leader.id)!;
    const r = await c.request(leader, 'POST', '/admin/transfer-leadership', { to: target.id });
    expect(r.body.leader, JSON.stringify(r.body)).toBe(target.id);
    const transfer = await waitFor('the transfer span', () =>
      rx.spans.find((s) => s.name === 'raft.transfer_leadership' && s.service === `raft-${leader.id}`),
    );
    expect(transfer.attrs['raft.transfer.target']).toBe(target.id);
    const timeoutNow = await waitFor('TimeoutNow', () =>
      rx.trace(transfer.traceId).find((s) => s.name === 'raft.Raft/TimeoutNow' && s.kind === CLIENT),
    );
    expect(timeoutNow.parentSpanId).toBe(transfer.spanId);
    await waitFor('the TimeoutNow SERVER span on the target', () =>
      rx
        .trace(transfer.traceId)
        .find((s) => s.name === 'raft.Raft/TimeoutNow' && s.kind === SERVER && s.service === `raft-${target.id}`),
    );
    const election = await waitFor('the transfer election', () =>
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
    for (const n of c.nodes) await c.request(n, 'POST', '/admin/chaos', { delayMs: [2, 5] });
    await c.request(leader, 'POST', '/admin/disk', { slowFsyncMs: 30 });
    const a = await c.request(leader, 'POST', '/locks/L/acquire', { owner: 'a', ttlMs: 200 });
    await new Promise((r) => setTimeout(r, 300));
    const b = await c.request(leader, 'POST', '/locks/L/acquire', { owner: 'b', ttlMs: 5000 });
    expect([a.status, b.status], JSON.stringify([a.body, b.body])).toEqual([200, 200]);
    const fenced = await c.request(
      leader,
      'PUT',
      '/kv/guarded',
      { value: 'late' },
      { 'x-fencing-token': `L:${a.body.token}` },
    );
    expect(fenced.status, JSON.stringify(fenced.body)).toBe(409);
    for (const n of c.nodes) await c.request(n, 'POST', '/admin/chaos', { delayMs: [0, 0] });
    await c.request(leader, 'POST', '/admin/disk', { slowFsyncMs: 0 });

    const acquired = await waitFor('the acquire apply', () =>
      rx
        .trace(b.headers.get('x-trace-id')!)
        .find((s) => s.name === 'raft.apply' && s.attrs['raft.lock.token'] === b.body.token),
    );
    expect(acquired.attrs['raft.op']).toBe('lock_acquire');
    const refused = await waitFor('the fenced apply', () =>
      rx
        .trace(fenced.headers.get('x-trace-id')!)
        .find((s) => s.name === 'raft.apply' && s.attrs['raft.result.code'] === 'fenced'),
    );
    expect(refused.events).toContain('fenced');
    const propose = rx.trace(fenced.headers.get('x-trace-id')!).find((s) => s.name === 'raft.propose')!;
    expect(propose.attrs).toMatchObject({ 'raft.fence.lock': 'L', 'raft.fence.token': a.body.token });
    const delayed = await waitFor('a delayed RPC', () =>
      rx.spans.find((s) => s.kind === CLIENT && s.events.some((e) => /^chaos: delayed \d+ ms$/.test(e))),
    );
    expect(delayed.name).toMatch(/^raft\.Raft\//);
    const slow = await waitFor('a slow fsync', () =>
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
    const leader = await c.waitForLeader();
    const lagging = c.nodes.find((n) => n.id !== leader.id)!;
    await c.kill(lagging);
    for (let i = 0; i < 5; i++) await c.put(leader, `s${i}`, `${i}`);
    const snap = await c.request(leader, 'POST', '/admin/snapshot');
    expect(snap.status).toBe(200);
    await waitFor('the snapshot span', () =>
      rx.spans.find(
        (s) =>
          s.name === 'raft.snapshot' &&
          s.service === `raft-${leader.id}` &&
          s.attrs['raft.snapshot.index'] === snap.body.index,
      ),
    );
    await c.restart(lagging);
    const install = await waitFor(
      'InstallSnapshot',
      () =>
        rx.spans.find(
          (s) => s.name === 'raft.Raft/InstallSnapshot' && s.kind === SERVER && s.service === `raft-${lagging.id}`,
        ),
      15_000,
    );
    // The leader's CLIENT span ends after the reply, so it may arrive in a later batch.
    const client = await waitFor('the InstallSnapshot CLIENT span', () =>
      rx.spans.find((s) => s.spanId === install.parentSpanId),
    );
    expect(client.kind).toBe(CLIENT);
    expect(client.service).toBe(`raft-${leader.id}`);
    expect(install.attrs['raft.snapshot.index']).toBeGreaterThanOrEqual(snap.body.index);
  });

  it('a membership change is a span on every node that applies it', async () => {
    const leader = await c.waitForLeader();
    const victim = c.nodes.find((n) => n.id !== leader.id)!;
    const r = await c.request(leader, 'POST', '/admin/members/remove', { id: victim.id });
    expect(r.status).toBe(200);
    const changes = await waitFor('membership spans', () => {
      const found = rx.spans.filter(
        (s) => s.name === 'raft.membership_change' && s.attrs['raft.membership.node'] === victim.id,
      );
      return found.length >= 2 && found;
    });
    expect(changes[0].attrs['raft.membership.change']).toBe('remove');
    expect(changes[0].attrs['raft.voters']).not.toContain(victim.id);
  });
});

// Membership changes through /admin/ run one at a time (issue 9, case 3): two adds of the same new
// id sent at once must not both pass the checks, or the second would re-point the first's address
// after the first was registered. Two processes claim the id n4, each at its own address; exactly
// one add wins, the other is refused at once, and the leader replicates to the winner only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { NodeStatus } from '../../src/api/status.js';
import { freePorts, TestCluster, type TestNode } from '../cluster/harness.js';

let c: TestCluster;

beforeAll(async () => {
  c = await TestCluster.start(3);
}, 60_000);
afterAll(() => c?.stop());

/** A second joining process under an id another process already claimed, at its own ports. */
async function twin(id: string): Promise<TestNode> {
  const [g, h] = await freePorts(2);
  const self = { id, grpc: `127.0.0.1:${g}`, http: `127.0.0.1:${h}` };
  const members = [...c.nodes.filter((n) => n.proc && n.id !== id), self];
  const dataDir = join(c.dir, `${id}-twin`);
  const node: TestNode = {
    ...self,
    dataDir,
    logFile: join(c.dir, `${id}-twin.log`),
    proc: null,
    args: ['--id', id, '--peers', members.map((m) => `${m.id}=${m.grpc}/${m.http}`).join(','), '--data-dir', dataDir],
    env: { RAFT_CLUSTER_SECRET: c.secret },
  };
  node.args.push('--admin', 'true', '--join', 'true');
  c.nodes.push(node); // c.stop() stops it too
  c.launch(node);
  await c.until(async () => (await c.status(node)) !== null, 15_000, `the second ${id} to start`);
  return node;
}

describe('membership changes run one at a time', () => {
  it('two concurrent adds of one new id: one 200, one 409 at once, and the address stays the winner’s', async () => {
    const leader = await c.waitForLeader();
    // Two would-be n4s at different addresses (both join as n4; only one may become the member).
    const a = await c.addProcess('n4');
    const b = await twin('n4');
    const add = (n: TestNode) =>
      c.request(leader, 'POST', '/admin/members/add', { id: 'n4', grpc: n.grpc, http: n.http });
    const [ra, rb] = await Promise.all([add(a), add(b)]);
    expect([ra.status, rb.status].sort(), `${ra.text}\n${rb.text}`).toEqual([200, 409]);
    const [winner, loser, refused] = ra.status === 200 ? [a, b, rb] : [b, a, ra];
    expect((refused.body as { error?: { code?: string } }).error?.code, refused.text).toBe(
      'membership_change_in_progress',
    );
    const st = (await c.status(leader)) as NodeStatus;
    expect(st.members.voters).toContain('n4');

    // The leader sends to the winner's address: a new write reaches it, never the loser.
    expect((await c.put(leader, 'after-add', 'v')).status).toBe(200);
    await c.until(
      async () => (await c.get(winner, 'after-add', '?consistency=stale&maxStalenessMs=5000')).status === 200,
      10_000,
      `the winning n4 (${winner.http}) to receive a write made after the add`,
    );
    const lost = await c.status(loser);
    expect(lost, `the losing n4 (${loser.http}) stopped answering`).not.toBeNull();
    expect(lost!.lastApplied, `the losing n4 (${loser.http}) was sent entries: its address was registered`).toBe(0);
  }, 60_000);
});

// Issue 9, case 4, on real processes: a bit flip in the last complete, fsynced WAL record is
// damage (the node refuses to serve under its id, now and after any restart), not a torn tail;
// and a follower whose log went backwards (as a disk that lied about fsync leaves it; simulated
// with an older copy of its directory from the same term, so its term and vote are unchanged) is
// caught up by the leader instead of being left behind for good.
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, type TestNode } from '../cluster/harness.js';

let c: TestCluster | null = null;
afterEach(async () => {
  await c?.stop();
  c = null;
});

function walOf(n: TestNode): string {
  const wal = readdirSync(n.dataDir)
    .filter((f) => f.startsWith('wal-'))
    .sort()
    .pop()!;
  return join(n.dataDir, wal);
}

/** Where the last record of a WAL starts (records are [u32 length][u32 crc][payload]). */
function lastRecordStart(buf: Buffer): number {
  let offset = 0;
  let last = 0;
  while (offset + 8 <= buf.length) {
    last = offset;
    offset += 8 + buf.readUInt32LE(offset);
  }
  return last;
}

/** Starts the node and waits (with a deadline, and the log tails if it never comes) for it to
 *  exit by itself; returns its exit code. */
async function exitOf(node: TestNode): Promise<number | null> {
  c!.launch(node);
  return c!.exited(node);
}

/** Writes through whoever leads (a leader known to the cluster, sent again if not applied). */
async function put(key: string, value: string): Promise<TestNode> {
  const r = await c!.leaderRequest('PUT', `/kv/${key}`, { value });
  expect(r.status, `PUT ${key}: ${r.text}`).toBe(200);
  return r.node;
}

const stale = '?consistency=stale&maxStalenessMs=5000';

describe('a damaged last record', () => {
  it('stops the node for good instead of being cut off as a torn tail', async () => {
    c = await TestCluster.start(3);
    let leader = await c.settled();
    for (let i = 0; i < 10; i++) leader = await put(`d${i}`, `${i}`);
    const victim = c.nodes.find((n) => n.id !== leader.id)!;
    await c.until(async () => (await c!.get(victim, 'd9', stale)).status === 200, 5000, `${victim.id} to have d9`);
    await c.kill(victim);
    const wal = walOf(victim);
    const buf = readFileSync(wal);
    const start = lastRecordStart(buf);
    buf[start + 8 + Math.floor((buf.length - start - 8) / 2)] ^= 0x10;
    writeFileSync(wal, buf);

    expect(await exitOf(victim)).toBe(1);
    expect(c.log(victim)).toMatch(/storage is damaged in the last record of wal-\d+\.log/);
    expect(c.log(victim)).toMatch(/Replacing a damaged server/);
    expect(c.log(victim)).not.toMatch(/torn tail/);
    // The evidence is kept, and a second start refuses too (the DAMAGED marker).
    expect(readFileSync(wal).length).toBe(buf.length);
    expect(await exitOf(victim)).toBe(1);
    expect(c.log(victim)).toMatch(/found damaged before/);
    // The other two still serve every acknowledged write.
    for (const n of c.nodes.filter((x) => x !== victim)) expect((await c.get(n, 'd9')).status).toBe(200);
  }, 60_000);
});

describe('a follower whose log went backwards', () => {
  it('is caught up by the leader, which believed it had everything', async () => {
    c = await TestCluster.start(3);
    let leader = await c.settled();
    for (let i = 0; i < 5; i++) leader = await put(`early${i}`, 'v');
    const follower = c.nodes.find((n) => n.id !== leader.id)!;
    await c.until(async () => (await c!.get(follower, 'early4', stale)).status === 200, 5000, 'early4 on the follower');
    // An older copy of the follower's data directory (no election since: same term, same vote).
    await c.kill(follower);
    const backup = `${follower.dataDir}.backup`;
    cpSync(follower.dataDir, backup, { recursive: true });
    await c.restart(follower);
    for (let i = 0; i < 20; i++) await put(`late${i}`, 'v');
    await c.until(async () => (await c!.get(follower, 'late19', stale)).status === 200, 5000, 'late19 on the follower');
    // The follower's log goes back to that copy: 20 acknowledged entries shorter than the leader thinks.
    await c.kill(follower);
    rmSync(follower.dataDir, { recursive: true, force: true });
    cpSync(backup, follower.dataDir, { recursive: true });
    await c.restart(follower);
    // No new writes: heartbeats alone must reveal the gap.
    await c.until(
      async () => (await c!.get(follower, 'late19', stale)).status === 200,
      10_000,
      `${follower.id} to get the entries it lost back from the leader`,
    );
  }, 60_000);
});

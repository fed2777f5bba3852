// Real processes, real faults: kill -9, SIGSTOP, partitions through the admin API, graceful
// SIGTERM, a server replaced after losing its disk, damaged storage, and chaos. The promise under
// test: every acknowledged write is still there afterwards.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, type TestNode } from './harness.js';

let c: TestCluster | null = null;
afterEach(async () => {
  await c?.stop();
  c = null;
});

/** Concurrent clients writing unique keys through random nodes; remembers what was acknowledged. */
function writers(cluster: TestCluster, clients = 4) {
  const acked = new Map<string, string>();
  let running = true;
  let seq = 0;
  const loops = Array.from({ length: clients }, async (_, w) => {
    while (running) {
      const live = cluster.nodes.filter((n) => n.proc);
      const node = live[Math.floor(Math.random() * live.length)];
      const key = `w${w}-${seq++}`;
      try {
        const r = await cluster.request(node, 'PUT', `/kv/${key}`, { value: key });
        if (r.status === 200) acked.set(key, key);
        else await new Promise((ok) => setTimeout(ok, 20));
      } catch {
        await new Promise((ok) => setTimeout(ok, 20));
      }
    }
  });
  return {
    acked,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function expectAllReadable(cluster: TestCluster, acked: Map<string, string>) {
  const leader = await cluster.waitForLeader();
  const missing: string[] = [];
  for (const [k, v] of acked) {
    const r = await cluster.get(leader, k);
    if (r.status !== 200 || r.body.value !== v) missing.push(k);
  }
  expect(missing, `acknowledged writes lost: ${missing.slice(0, 10).join(', ')}`).toEqual([]);
}

describe('crashes', () => {
  it('keeps every acknowledged write through kill -9 of the leader, then of a follower', async () => {
    c = await TestCluster.start(3);
    const w = writers(c);
    await new Promise((r) => setTimeout(r, 700));
    const leader = await c.waitForLeader();
    await c.kill(leader);
    const next = await c.waitForLeader(
      10_000,
      c.nodes.filter((n) => n.id !== leader.id).map((n) => n.id),
    );
    await new Promise((r) => setTimeout(r, 500));
    await c.restart(leader);
    const follower = c.nodes.find((n) => n.id !== next.id && n.proc)!;
    await c.kill(follower);
    await new Promise((r) => setTimeout(r, 500));
    await c.restart(follower);
    await w.stop();
    expect(w.acked.size).toBeGreaterThan(50);
    await expectAllReadable(c, w.acked);
    // The restarted nodes caught up too.
    const target = (await c.status(next)).commitIndex;
    for (const n of [leader, follower]) {
      await c.until(async () => (await c!.status(n))?.lastApplied >= target, 5000, `${n.id} to catch up`);
    }
  });

  it('keeps every acknowledged write through kill -9 of all nodes at once', async () => {
    c = await TestCluster.start(3);
    const w = writers(c);
    await new Promise((r) => setTimeout(r, 800));
    await Promise.all(c.nodes.map((n) => c!.kill(n)));
    await w.stop();
    expect(w.acked.size).toBeGreaterThan(20);
    for (const n of c.nodes) c.launch(n);
    await expectAllReadable(c, w.acked);
  });
});

describe('pauses and partitions', () => {
  it('replaces a paused (SIGSTOP) leader; on resume it returns as a follower', async () => {
    c = await TestCluster.start(3);
    const old = await c.waitForLeader();
    const term = (await c.status(old)).term;
    c.signal(old, 'SIGSTOP');
    const others = c.nodes.filter((n) => n.id !== old.id);
    const next = await c.waitForLeader(
      10_000,
      others.map((n) => n.id),
    );
    expect((await c.put(next, 'while-paused', 'yes')).status).toBe(200);
    c.signal(old, 'SIGCONT');
    const st = await c.until(
      async () => {
        const s = await c!.status(old);
        return s?.role === 'follower' && s.leader === next.id && s;
      },
      5000,
      'the old leader to follow',
    );
    expect(st.term).toBeGreaterThan(term);
    expect((await c.get(old, 'while-paused')).body.value).toBe('yes');
  });

  it('a cut-off leader steps down (CheckQuorum) and the isolated minority cannot commit', async () => {
    c = await TestCluster.start(3);
    const old = await c.waitForLeader();
    const others = c.nodes.filter((n) => n.id !== old.id).map((n) => n.id);
    await c.request(old, 'POST', '/admin/chaos', { cutOut: others, cutIn: others });
    for (const id of others) await c.request(c.node(id), 'POST', '/admin/chaos', { cutOut: [old.id], cutIn: [old.id] });
    const next = await c.waitForLeader(10_000, others);
    await c.until(async () => (await c!.status(old))?.role !== 'leader', 3000, 'the cut-off leader to step down');
    const minority = await c.put(old, 'minority', 'no');
    expect(minority.status).toBeGreaterThanOrEqual(500);
    expect(['no_leader', 'not_leader', 'leader_unreachable', 'outcome_unknown', 'not_committed']).toContain(
      minority.body.error.code,
    );
    expect((await c.put(next, 'majority', 'yes')).status).toBe(200);
    // Heal: the old leader catches up, and the minority write never happened.
    for (const n of c.nodes) await c.request(n, 'POST', '/admin/chaos', { cutOut: [], cutIn: [] });
    await c.until(async () => (await c!.get(old, 'majority')).status === 200, 5000, 'the old leader to catch up');
    expect((await c.get(next, 'minority')).status).toBe(404);
  });

  it('answers 503 with Retry-After quickly when there is no leader', async () => {
    c = await TestCluster.start(3);
    const leader = await c.waitForLeader();
    const survivor = c.nodes.find((n) => n.id !== leader.id)!;
    await Promise.all(c.nodes.filter((n) => n !== survivor).map((n) => c!.kill(n)));
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = await c.put(survivor, 'k', 'v');
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(['no_leader', 'leader_unreachable']).toContain(r.body.error.code);
      await new Promise((ok) => setTimeout(ok, 150));
    }
    const stale = await c.get(survivor, 'k', '?consistency=stale&maxStalenessMs=100');
    expect(stale.status).toBe(503);
    expect(stale.body.error.code).toBe('stale_bound_exceeded');
  });

  it('keeps working with dropped and delayed messages', async () => {
    c = await TestCluster.start(3);
    for (const n of c.nodes)
      await c.request(n, 'POST', '/admin/chaos', { dropRate: 0.2, dropReplyRate: 0.1, delayMs: [1, 15] });
    let ok = 0;
    for (let i = 0; i < 30; i++) {
      const leader = await c.waitForLeader();
      if ((await c.put(leader, `c${i}`, `${i}`)).status === 200) ok++;
    }
    expect(ok).toBeGreaterThan(20);
    for (const n of c.nodes)
      await c.request(n, 'POST', '/admin/chaos', { dropRate: 0, dropReplyRate: 0, delayMs: [0, 0] });
  });
});

describe('graceful stop and replacement', () => {
  it('a leader stopped with SIGTERM hands leadership over before it exits', async () => {
    c = await TestCluster.start(3);
    const old = await c.waitForLeader();
    const term = (await c.status(old)).term;
    const t0 = performance.now();
    const code = await c.kill(old, 'SIGTERM');
    expect(code).toBe(0);
    const others = c.nodes.filter((n) => n.id !== old.id);
    const next = await c.waitForLeader(
      5000,
      others.map((n) => n.id),
    );
    // A handover is one quick election in the next term, not a timeout-driven one.
    expect(performance.now() - t0).toBeLessThan(1500);
    expect((await c.status(next)).term).toBe(term + 1);
    expect(c.log(old)).toMatch(/"event":"leadership_handed_over","to":"n\d"/);
    expect(c.log(old)).toMatch(/"event":"node_stopped","graceful":true/);
  });

  it('replaces a server whose disk was wiped with a new member', async () => {
    c = await TestCluster.start(3);
    const leader = await c.waitForLeader();
    for (let i = 0; i < 20; i++) expect((await c.put(leader, `k${i}`, `${i}`)).status).toBe(200);
    const victim = c.nodes.find((n) => n.id !== leader.id)!;
    await c.kill(victim);
    rmSync(victim.dataDir, { recursive: true, force: true });
    const removed = await c.request(leader, 'POST', '/admin/members/remove', { id: victim.id });
    expect(removed.status).toBe(200);
    expect(removed.body.members.voters).not.toContain(victim.id);
    c.nodes = c.nodes.filter((n) => n !== victim);

    const n4 = await c.addProcess('n4');
    const added = await c.request(leader, 'POST', '/admin/members/add', { id: 'n4', grpc: n4.grpc, http: n4.http });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body.members.voters.sort()).toEqual([...c.nodes.map((n) => n.id)].sort());
    expect(added.body.steps).toHaveLength(4);
    expect((await c.get(n4, 'k19')).body.value).toBe('19');
    // The new configuration tolerates losing the old leader: n4 counts towards the majority.
    await c.kill(leader);
    const next = await c.waitForLeader(10_000);
    expect((await c.put(next, 'after', 'replacement')).status).toBe(200);
  });
});

describe('damaged storage', () => {
  function walOf(n: TestNode): string {
    const wal = readdirSync(n.dataDir)
      .filter((f) => f.startsWith('wal-'))
      .sort()
      .pop()!;
    return join(n.dataDir, wal);
  }

  it('truncates a torn tail and carries on; refuses to serve from a log damaged in the middle', async () => {
    c = await TestCluster.start(3);
    const leader = await c.waitForLeader();
    for (let i = 0; i < 10; i++) await c.put(leader, `d${i}`, `${i}`);
    const victim = c.nodes.find((n) => n.id !== leader.id)!;
    await c.kill(victim);

    // A crash in the middle of a write leaves half a record at the end.
    const wal = walOf(victim);
    writeFileSync(wal, Buffer.concat([readFileSync(wal), Buffer.from([200, 0, 0, 0, 1, 2, 3])]));
    await c.restart(victim);
    expect(c.log(victim)).toMatch(/"event":"storage_recovered".*torn tail/);
    await c.until(
      async () => (await c!.get(victim, 'd9', '?consistency=stale&maxStalenessMs=5000')).status === 200,
      5000,
      'the node to serve again',
    );
    await c.kill(victim);

    // Damage followed by intact records: acknowledged data is gone, the node must not serve.
    const buf = readFileSync(walOf(victim));
    buf[12] ^= 0xff;
    writeFileSync(walOf(victim), buf);
    c.launch(victim);
    const code = await new Promise<number | null>((ok) => victim.proc!.once('exit', ok));
    victim.proc = null;
    expect(code).toBe(1);
    expect(c.log(victim)).toMatch(/storage is damaged in the middle of wal-\d+\.log/);
    expect(c.log(victim)).toMatch(/replace this server with a new member/);
  });
});

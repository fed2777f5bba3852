// Exercises 00, 01, 03 and 04 on one three-node cluster with the built-in viewer, each as its
// README tells a learner: the check fails before the steps, and passes after them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agreedLeader, alive, cli, type Result } from '../cli/procs.js';
import { waitUntil } from '../support/wait.js';
import { exercise, fails, lab, ok, passes, sleep, type Lab } from './support.js';

describe('exercises 00, 01, 03 and 04 (default settings)', () => {
  let l: Lab;
  let before00: Result;
  beforeAll(async () => {
    l = await lab(3, {}, async (dir, viewer) => {
      before00 = await cli(['exercise', 'check', '0', '--data-dir', dir, '--traces', viewer]);
    });
  });
  afterAll(() => l?.stop());

  it('00 first election: fails with no cluster, passes once a leader is elected', async () => {
    expect(before00.code).toBe(1);
    expect(before00.err).toMatch(/no cluster at .*npm start/);
    const r = await passes(l, '0');
    const leader = await l.leader();
    expect(r.out).toContain(`${leader}'s raft.election span`);
    expect(r.out).toMatch(/pre-vote round/);
    expect(r.out).toMatch(/trace [0-9a-f]{32}/);
    expect(r.out).toMatch(/✓ at most one leader elected per term/);
  });

  it('01 one write, one trace: fails before a write, passes after a PUT to a follower', async () => {
    await ok(l, 'exercise', 'start', '1');
    const before = await fails(l, '1');
    expect(before.out).toMatch(/✗ a write sent to a follower/);
    const leader = await l.leader();
    const follower = l.others(leader)[0];
    // A write to the leader itself does not count: the check wants the forward hop.
    await ok(l, 'kv', 'put', 'direct', 'x', '--node', leader);
    await sleep(1000);
    expect((await exercise(l, 'check', '1')).code).toBe(1);
    await ok(l, 'kv', 'put', 'greeting', 'hello', '--node', follower);
    const r = await passes(l, '1');
    expect(r.out).toContain(`the write reached ${follower}, a follower`);
    expect(r.out).toMatch(/5\. every node applied it/);
  });

  it('03 failover: fails before the leader is killed, passes after crash, catch-up and graceful stop', async () => {
    const first = await l.leader();
    await ok(l, 'exercise', 'start', '3');
    await fails(l, '3');
    await ok(l, 'kill', first);
    const second = await l.leader();
    await ok(l, 'kv', 'put', 'after-crash', '1');
    await ok(l, 'restart', first);
    const now = await l.leader();
    // Graceful stop of the current leader: SIGTERM, as `docker compose stop` sends.
    const pid = l.pid(now);
    process.kill(pid, 'SIGTERM');
    await waitUntil(`${now} (pid ${pid}) to exit after SIGTERM`, () => !alive(pid), { timeoutMs: 15_000 });
    await ok(l, 'restart', now);
    await l.leader();
    const r = await passes(l, '3');
    expect(r.out).toContain(`crash: ${second} won term`);
    expect(r.out).toMatch(/graceful stop: \S+ handed leadership to \S+/);
    expect(r.out).toMatch(/with no pre-vote round/);
  });

  it('04 quorum: fails before the failures, passes after losing one node, then two, and recovering', async () => {
    await ok(l, 'exercise', 'start', '4');
    await fails(l, '4');
    const leader = await l.leader();
    const [f1, f2] = l.others(leader);
    await ok(l, 'kv', 'put', 'a', '1');
    await ok(l, 'kill', f1);
    await ok(l, 'kv', 'put', 'b', '2', '--node', leader);
    await ok(l, 'kill', f2);
    // CheckQuorum: the leader steps down within an election timeout; then writes are refused.
    await waitUntil(
      `${leader} to step down with no majority`,
      async () => {
        const st = await cli(['status', '--json', '--data-dir', l.dir]);
        return /"role": "pre_candidate"/.test(st.out);
      },
      { timeoutMs: 10_000, everyMs: 100 },
    );
    const refused = await l.run('kv', 'put', 'c', '3', '--node', leader);
    expect(refused.code).toBe(1);
    expect(refused.out + refused.err).toMatch(/503/);
    await sleep(2500); // the lone node asks for pre-votes, round after round
    await ok(l, 'restart', f1);
    await ok(l, 'restart', f2);
    await agreedLeader(l.dir);
    const r = await passes(l, '4');
    expect(r.out).toMatch(/every acknowledged write is still there: \d+ keys/);
    expect(r.out).toMatch(/its term never climbed/);
  });
});

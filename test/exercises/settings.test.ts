// Exercises 02 and 05, whose steps restart the cluster with other settings (heartbeat sampling,
// CheckQuorum, PreVote), on one three-node cluster with the built-in viewer: each check fails
// before its README's steps and passes after them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownStatus } from '../../src/cli/http.js';
import { findCluster } from '../../src/cli/cluster-file.js';
import { waitUntil } from '../support/wait.js';
import { fails, lab, ok, passes, sleep, type Lab } from './support.js';

/** Waits until `id` answers /status with a role and known leader that satisfy `pred`. */
async function waitRole(l: Lab, id: string, pred: (role: string, leader: string | null) => boolean, what: string) {
  const node = findCluster(l.dir)!.nodes.find((n) => n.id === id)!;
  await waitUntil(
    what,
    async () => {
      const st = await ownStatus(node, 1000);
      return st !== null && pred(st.role, st.leader);
    },
    { timeoutMs: 15_000, everyMs: 100 },
  );
}

describe('exercises 02 and 05 (settings changed between steps)', () => {
  let l: Lab;
  beforeAll(async () => {
    l = await lab(3);
  });
  afterAll(() => l?.stop());

  it('02 failure detection: fails without traced heartbeats, passes after pause, kill and cut', async () => {
    await ok(l, 'exercise', 'start', '2');
    const before = await fails(l, '2');
    expect(before.out).toMatch(/✗ heartbeats are traced[\s\S]*RAFT_SAMPLE_HEARTBEATS=1 npm start/);
    await l.restartWith({ RAFT_SAMPLE_HEARTBEATS: '1' });
    await ok(l, 'exercise', 'start', '2');
    const leader = await l.leader();
    const f = l.others(leader)[0];
    await ok(l, 'pause', f);
    await sleep(1500);
    await ok(l, 'resume', f);
    await l.leader();
    await ok(l, 'kill', f);
    await sleep(1500);
    await ok(l, 'restart', f);
    await l.leader();
    await ok(l, 'partition', f, l.others(f).join(','));
    await sleep(1500);
    await ok(l, 'heal');
    await l.leader();
    const r = await passes(l, '2');
    expect(r.out).toMatch(/slow: .*DEADLINE_EXCEEDED\): \d+ from/);
    expect(r.out).toMatch(/dead: .*: \d+ from/);
    expect(r.out).toMatch(/cut off: .*: \d+ from/);
  });

  it('05 partitions: fails before, passes after CheckQuorum on, CheckQuorum off and PreVote off', async () => {
    await l.restartWith({});
    await ok(l, 'exercise', 'start', '5');
    await fails(l, '5');
    // CheckQuorum on (the default): the cut-off leader steps down.
    let leader = await l.leader();
    await ok(l, 'partition', leader, l.others(leader).join(','));
    await waitRole(l, leader, (role) => role !== 'leader', `${leader}, cut off, to step down`);
    await ok(l, 'heal');
    await l.leader();
    // CheckQuorum off: the cut-off leader goes on leading; its write never commits.
    await l.restartWith({ RAFT_CHECK_QUORUM: 'false' });
    leader = await l.leader();
    const [a] = l.others(leader);
    await ok(l, 'partition', leader, l.others(leader).join(','));
    await waitRole(l, a, (role, known) => known !== null && known !== leader, `the majority to elect a new leader`);
    const minority = await l.run('kv', 'put', 'split-brain', 'minority', '--node', leader);
    expect(minority.code).toBe(1);
    await ok(l, 'heal');
    await l.leader();
    // PreVote off: a cut-off follower raises its term, and deposes the leader when it returns.
    await l.restartWith({ RAFT_PRE_VOTE: 'false' });
    leader = await l.leader();
    const f = l.others(leader)[0];
    await ok(l, 'partition', f, l.others(f).join(','));
    await sleep(2500);
    await ok(l, 'heal');
    await l.leader();
    const r = await passes(l, '5');
    expect(r.out).toMatch(/CheckQuorum on: \S+, cut off, stepped down by itself/);
    expect(r.out).toMatch(/CheckQuorum off: two leaders at once/);
    expect(r.out).toMatch(/GET split-brain answers 404/);
    expect(r.out).toMatch(/PreVote off: \S+, cut off, stood for election \d+ times/);
  });
});

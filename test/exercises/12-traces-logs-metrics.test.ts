// Exercise 12's steps on a real cluster: the metrics watcher scraping every node, a load, the
// leader killed under it and restarted. The watcher must count the leader change and serve it in
// Prometheus' format; the check fails right after `exercise start` and passes after the incident.
import { afterAll, describe, expect, it } from 'vitest';
import { findCluster } from '../../src/cli/cluster-file.js';
import { startWatch } from '../../src/exercises/metrics-watch.js';
import { cleanUp } from '../cli/procs.js';
import { onCleanup } from '../support/processes.js';
import { sleep, waitUntil } from '../support/wait.js';
import { ExerciseCluster } from './exercise-cluster.js';

afterAll(cleanUp);

describe('exercise 12: traces, logs and metrics', () => {
  it('fails before the incident, passes after it; the metrics watcher counts the leader change', async () => {
    // As the README's step 0a: every write of the bench traced, so the one that waited is there.
    const c = await ExerciseCluster.start(3, { RAFT_TRACE_RATE: '0' });
    const members = findCluster(c.dir)!.nodes.map((n) => ({ id: n.id, http: n.http }));
    const watch = await startWatch(members, { port: 0, intervalMs: 250 });
    onCleanup(() => watch.stop());
    await c.ok('exercise', 'start', '12');
    const before = await c.check(12);
    expect(before.code, before.out + before.err).toBe(1);
    expect(before.out).toMatch(/✗ leadership moved/);

    const old = await c.leader();
    const bench = c.run('bench', '--clients', '4', '--duration', '6', '--mix', 'put=100');
    await sleep(2500);
    await c.ok('kill', old);
    await bench;
    await c.ok('restart', old);
    const now = await c.leader();
    expect(now).not.toBe(old);

    // Metrics: every survivor reported the change of leader, and /metrics says so.
    await waitUntil(
      'the watcher to count a leader change on each survivor',
      () => watch.series.filter((s) => s.id !== old).every((s) => s.leaderChanges >= 1),
      { timeoutMs: 10_000, context: () => JSON.stringify(watch.series) },
    );
    const text = await (await fetch(watch.url)).text();
    expect(text).toMatch(new RegExp(`raft_leader_changes_observed_total\\{node="${now}"\\} [1-9]`));
    expect(text).toMatch(new RegExp(`raft_role\\{node="${now}",role="leader"\\} 3`));

    const after = await c.checkPasses(12);
    expect(after.out).toMatch(new RegExp(`✓ leadership moved: ${old} led term \\d+ at the start, ${now} leads`));
    expect(after.out).toMatch(/✓ the slowest write around the failover took .* applied by it only after it won/);
    expect(after.out).toMatch(
      new RegExp(`✓ ${now}'s log says \\{"event":"became_leader".*the same trace as its raft.election`),
    );
  });
});

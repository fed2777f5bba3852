// Small helpers shared by the scenario tests.
import { expect } from 'vitest';
import { SimCluster, type SimOptions, type Write } from '../../src/sim/cluster.js';
import { convergenceProblem } from '../../src/sim/nemesis.js';
import type { NodeId, Observation } from '../../src/raft/types.js';

export function cluster(opts: Partial<SimOptions> = {}): SimCluster {
  return new SimCluster({ timeline: true, ...opts });
}

/** Runs until some node leads, and returns it. */
export function awaitLeader(c: SimCluster, maxMs = 3000, among?: NodeId[]): NodeId {
  const ok = c.runUntil(() => {
    const l = c.leader();
    return l !== null && (!among || among.includes(l));
  }, maxMs);
  expect(ok, `no leader within ${maxMs} virtual ms${among ? ` among ${among.join(', ')}` : ''}`).toBe(true);
  return c.leader()!;
}

/** Writes through the current leader and waits for the acknowledgement. */
export function commitWrite(c: SimCluster, key: string, value: string, maxMs = 2000): Write {
  const w = c.write(key, value);
  expect(w, 'the leader refused the write').not.toBeNull();
  c.runUntil(() => w!.status !== 'pending', maxMs);
  expect(w!.status).toBe('acked');
  return w!;
}

/** Writes, retrying through whoever leads, until one attempt is acknowledged. */
export function writeWithRetries(c: SimCluster, key: string, value: string, maxMs = 10_000): Write {
  const deadline = c.now + maxMs;
  while (c.now < deadline) {
    const w = c.write(key, value);
    if (!w) {
      c.runFor(20);
      continue;
    }
    c.runUntil(() => w.status !== 'pending', 1000);
    if (w.status === 'acked') return w;
  }
  throw new Error(`write ${key}=${value} not acknowledged within ${maxMs} ms`);
}

export function expectConverged(c: SimCluster, maxMs = 5000): void {
  c.runUntil(() => convergenceProblem(c) === null, maxMs);
  expect(convergenceProblem(c)).toBeNull();
}

export function observations<T extends Observation['type']>(c: SimCluster, type: T, node?: NodeId) {
  return c.observed
    .filter((o) => o.obs.type === type && (!node || o.node === node))
    .map((o) => o.obs as Extract<Observation, { type: T }>);
}

export function followersOf(c: SimCluster, leader: NodeId): NodeId[] {
  return c.ids().filter((id) => id !== leader);
}

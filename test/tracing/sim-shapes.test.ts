// The trace model's shapes, checked in the deterministic simulator on fixed seeds: the same span
// makers a node uses, fed by the simulated cluster, recorded in memory. No processes, no timing:
// each test is the same run every time.
import { describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SimCluster, type SimOptions } from '../../src/sim/cluster.js';
import { SimTracing } from '../../src/telemetry/sim-tracing.js';
import { awaitLeader, commitWrite, followersOf } from '../raft/helpers.js';

function traced(seed: number, opts: Partial<SimOptions> = {}, heartbeats = false) {
  const tracing = new SimTracing(seed, { heartbeats });
  const c = new SimCluster({ seed, nodes: 3, tracing, ...opts });
  return { c, tracing };
}

/** The finished spans, with tree helpers. */
function tree(spans: ReadableSpan[]) {
  const node = (s: ReadableSpan) => String(s.attributes['raft.node.id']);
  const children = (p: ReadableSpan, name?: string) =>
    spans.filter(
      (s) =>
        s.parentSpanContext?.spanId === p.spanContext().spanId &&
        s.spanContext().traceId === p.spanContext().traceId &&
        (!name || s.name === name),
    );
  const named = (name: string, where: (s: ReadableSpan) => boolean = () => true) =>
    spans.filter((s) => s.name === name && where(s));
  return { node, children, named, spans };
}

const kindOf = (s: ReadableSpan) => s.kind;

describe('trace shapes in the simulator', () => {
  it("an election's tree: votes asked and cast, the vote made durable, the new leader's no-op accepted by each follower", () => {
    const { c, tracing } = traced(11);
    const leader = awaitLeader(c);
    c.runFor(200);
    const t = tree(tracing.finish());
    const [election] = t.named(
      'raft.election',
      (s) => t.node(s) === leader && s.attributes['raft.election.outcome'] === 'won',
    );
    expect(election, 'no election won by the leader').toBeDefined();
    expect(election.parentSpanContext).toBeUndefined();
    expect(election.events.map((e) => e.name).some((e) => e.startsWith('leader established: its no-op entry'))).toBe(
      true,
    );
    const votes = t.children(election, 'raft.Raft/RequestVote');
    expect(votes.every((v) => kindOf(v) === SpanKind.CLIENT)).toBe(true);
    for (const f of followersOf(c, leader)) {
      const toF = votes.filter((v) => v.attributes['raft.peer.id'] === f);
      expect(toF.length, `no RequestVote to ${f}`).toBeGreaterThan(0);
      const served = toF.flatMap((v) => t.children(v, 'raft.Raft/RequestVote'));
      expect(served.map(t.node)).toContain(f);
      expect(served.every((s) => kindOf(s) === SpanKind.SERVER)).toBe(true);
      // The no-op round: the leader's AppendEntries in the election's trace, served by f, which
      // makes the entry durable on its behalf.
      const appends = t.children(election, 'raft.Raft/AppendEntries').filter((a) => a.attributes['raft.peer.id'] === f);
      expect(appends.length, `no no-op AppendEntries to ${f} in the election`).toBeGreaterThan(0);
      const accepted = appends.flatMap((a) => t.children(a, 'raft.Raft/AppendEntries'));
      expect(accepted.some((s) => s.attributes['raft.append.success'] === true)).toBe(true);
      expect(accepted.flatMap((s) => t.children(s, 'raft.persist')).length).toBeGreaterThan(0);
    }
    // The candidate's own vote for itself is made durable inside the election.
    expect(t.children(election, 'raft.persist').length).toBeGreaterThan(0);
  });

  it("a write's tree across nodes: propose, persist, AppendEntries to each follower and its persist, commit, apply everywhere", () => {
    const { c, tracing } = traced(12);
    const leader = awaitLeader(c);
    c.runFor(100);
    const w = commitWrite(c, 'k', 'v');
    c.runFor(100); // followers learn the commit and apply
    const t = tree(tracing.finish());
    const [propose] = t.named('raft.propose', (s) => s.attributes['raft.log.index'] === w.index);
    expect(propose.parentSpanContext).toBeUndefined();
    expect(t.node(propose)).toBe(leader);
    expect(t.children(propose, 'raft.persist').map(t.node)).toEqual([leader]);
    expect(t.children(propose, 'raft.commit').map(t.node)).toEqual([leader]);
    const appends = t.children(propose, 'raft.Raft/AppendEntries');
    for (const f of followersOf(c, leader)) {
      const served = appends
        .filter((a) => a.attributes['raft.peer.id'] === f)
        .flatMap((a) => t.children(a, 'raft.Raft/AppendEntries'));
      expect(served.map(t.node), `${f} served no AppendEntries of the write`).toContain(f);
      expect(served.flatMap((s) => t.children(s, 'raft.persist')).map(t.node)).toContain(f);
    }
    const applies = t.children(propose, 'raft.apply');
    expect(applies.map(t.node).sort()).toEqual(c.ids().sort());
    expect(applies.every((a) => a.attributes['raft.apply.replay'] === false)).toBe(true);
  });

  it('a failover: the dead leader is unreachable on the RequestVote spans of an election won in a later term', () => {
    const { c, tracing } = traced(13);
    const first = awaitLeader(c);
    commitWrite(c, 'k', 'v');
    const term = c.raft(first).term;
    c.crash(first);
    const second = awaitLeader(c, 5000, followersOf(c, first));
    c.runFor(200);
    const t = tree(tracing.finish());
    const [election] = t.named(
      'raft.election',
      (s) =>
        t.node(s) === second &&
        s.attributes['raft.election.outcome'] === 'won' &&
        Number(s.attributes['raft.term']) > term,
    );
    expect(election, `no election won by ${second} after ${first} crashed`).toBeDefined();
    const toDead = t.children(election, 'raft.Raft/RequestVote').filter((v) => v.attributes['raft.peer.id'] === first);
    expect(toDead.length).toBeGreaterThan(0);
    expect(toDead.every((v) => v.attributes['rpc.status_code'] === 'UNAVAILABLE')).toBe(true);
  });

  it('a backtrack: appends that arrive out of order are rejected, the leader backs up, and the retry is accepted', () => {
    // The simulated network delays each message 1-3 ms, so pipelined appends overtake each other:
    // a follower sees an append whose previous entry it does not have yet and rejects it.
    const { c, tracing } = traced(23, { nodes: 5 });
    const leader = awaitLeader(c);
    for (let i = 0; i < 10; i++) {
      c.write('k', `v${i}`, leader);
      c.runFor(1); // one append each, pipelined
    }
    c.runFor(300);
    const t = tree(tracing.finish());
    const appends = t.named('raft.Raft/AppendEntries', (s) => s.kind === SpanKind.CLIENT && t.node(s) === leader);
    const rejected = appends.filter((s) => s.attributes['raft.append.success'] === false);
    expect(rejected.length, 'no rejected AppendEntries was traced').toBeGreaterThan(0);
    const [first] = rejected;
    const f = String(first.attributes['raft.peer.id']);
    expect(first.events.some((e) => e.name.includes('the leader backs up'))).toBe(true);
    expect(Number(first.attributes['raft.conflict.index'])).toBeLessThanOrEqual(
      Number(first.attributes['raft.prev_log.index']),
    );
    // The follower's side of the same call gives the same answer, in the same write's trace.
    const [served] = t.children(first, 'raft.Raft/AppendEntries');
    expect(t.node(served)).toBe(f);
    expect(served.attributes['raft.append.success']).toBe(false);
    // The entries the rejected append carried reach f in a later, accepted append.
    const at = (s: ReadableSpan) => s.startTime[0] * 1e9 + s.startTime[1];
    const index = Number(first.attributes['raft.log.index']);
    const repaired = appends.filter(
      (s) =>
        s.attributes['raft.peer.id'] === f &&
        s.attributes['raft.append.success'] === true &&
        Number(s.attributes['raft.append.match_index']) >= index &&
        at(s) >= at(first),
    );
    expect(repaired.length).toBeGreaterThan(0);
  });

  it('an InstallSnapshot: a follower behind the compacted log gets the snapshot and makes it durable', () => {
    const { c, tracing } = traced(15, { compactEvery: 5 });
    const leader = awaitLeader(c);
    const [f] = followersOf(c, leader);
    c.crash(f);
    for (let i = 0; i < 12; i++) commitWrite(c, `k${i}`, 'v');
    c.restart(f);
    c.runFor(500);
    expect(c.node(f).applied).toBe(c.raft(leader).commitIndex);
    const t = tree(tracing.finish());
    const [call] = t.named(
      'raft.Raft/InstallSnapshot',
      (s) => s.kind === SpanKind.CLIENT && s.attributes['raft.peer.id'] === f,
    );
    expect(call, `no InstallSnapshot to ${f}`).toBeDefined();
    expect(call.attributes['raft.trace.kind']).toBe('snapshot');
    const [served] = t.children(call, 'raft.Raft/InstallSnapshot');
    expect(t.node(served)).toBe(f);
    const [persist] = t.children(served, 'raft.persist');
    expect(persist.attributes['raft.snapshot.index']).toBe(call.attributes['raft.snapshot.index']);
  });

  it('is the same file for the same seed', () => {
    const run = () => {
      const { c, tracing } = traced(16);
      awaitLeader(c);
      commitWrite(c, 'k', 'v');
      return tracing.otlpJson();
    };
    const a = run();
    expect(a).toBe(run());
    expect(JSON.parse(a)).toHaveProperty('resourceSpans');
  });
});

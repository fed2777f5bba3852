// Tracing defects of issue 13 (1, 3, 4, 6, 7, 11 and the RPC-span half of 10), each shown on the
// node's tracing layer directly: spans recorded in memory, RPCs driven through the same hooks the
// gRPC transport calls.
import { beforeEach, describe, expect, it } from 'vitest';
import { Metadata } from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { CompositePropagator } from '@opentelemetry/core';
import { RaftTracing } from '../../src/telemetry/raft-tracing.js';
import { RpcError } from '../../src/transport/server.js';
import type { RpcErrorCode } from '../../src/node/errors.js';
import type { AppendEntries, Entry } from '../../src/raft/types.js';
import { readyWith } from '../../src/raft/types.js';
import { parentId, recordSpans, type Spans } from './provider.js';

const gauges = { term: () => 2, role: () => 'leader', commitIndex: () => 0, appliedIndex: () => 0 };
let spans: Spans;
let tracing: RaftTracing;
beforeEach(() => {
  spans = recordSpans();
  tracing = new RaftTracing('n1', gauges);
});

const entry = (index: number, ctx: string): Entry => ({ index, term: 2, type: 'normal', data: '{}', context: ctx });
const append = (entries: Entry[]): AppendEntries => ({
  type: 'AppendEntries',
  clusterId: 'c',
  from: 'n1',
  to: 'n2',
  term: 2,
  prevLogIndex: entries.length ? entries[0].index - 1 : 0,
  prevLogTerm: 2,
  entries,
  leaderCommit: 0,
  seq: 1,
  heartbeat: false,
});
const call = (m: AppendEntries) =>
  tracing.hooks.clientCall({ method: 'AppendEntries', peer: 'n2', address: '127.0.0.1:7001', message: m }, () =>
    Promise.resolve(null),
  );
/** Proposes at `index` inside a request whose trace was (or was not) sampled upstream. */
function proposeUnder(index: number, sampled: boolean): string {
  const upstream = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: (sampled ? 'a' : 'b').repeat(32),
    spanId: String(index).padStart(16, '0'),
    traceFlags: sampled ? 1 : 0,
    isRemote: true,
  });
  return context.with(upstream, () => tracing.proposed(index, 2, {}));
}

describe('tracing defects', () => {
  it('1: a sampled write batched behind an unsampled one keeps its AppendEntries, linked both ways, and the follower links too', async () => {
    const unsampled = proposeUnder(5, false);
    const sampled = proposeUnder(6, true);
    const other = proposeUnder(7, true);
    await call(append([entry(5, unsampled), entry(6, sampled), entry(7, other)]));
    const client = spans.one('raft.Raft/AppendEntries');
    expect(client.spanContext().traceId).toBe('a'.repeat(32));
    // The proposal of entry 6 is its parent; entry 7's proposal is linked from it and links back.
    for (const i of [5, 6, 7])
      tracing.apply(
        entry(i, [unsampled, sampled, other][i - 5]),
        () => null,
        () => ({}),
      );
    const proposals = spans.named('raft.propose');
    expect(proposals).toHaveLength(2);
    const [p6, p7] = proposals.sort(
      (a, b) => Number(a.attributes['raft.log.index']) - Number(b.attributes['raft.log.index']),
    );
    expect(parentId(client)).toBe(p6.spanContext().spanId);
    expect(client.links.map((l) => l.context.spanId)).toContain(p7.spanContext().spanId);
    expect(p7.links.map((l) => l.context.spanId)).toContain(client.spanContext().spanId);

    // The follower: its SERVER span continues the CLIENT span and links the other proposals; its
    // persist span is in the trace.
    const follower = new RaftTracing('n2', gauges);
    const md = new Metadata();
    propagation.inject(trace.setSpanContext(ROOT_CONTEXT, client.spanContext()), md, {
      set: (c: Metadata, k: string, v: string) => c.set(k, v),
    });
    const m = append([entry(5, unsampled), entry(6, sampled), entry(7, other)]);
    await follower.hooks.serverCall({ method: 'AppendEntries', peer: 'n1', message: m }, md, async () => {
      follower.noteCause();
      await follower.persist(
        readyWith({ entries: m.entries, mustSync: true }),
        () => Promise.resolve(),
        () => 1,
      );
      return null;
    });
    const server = spans
      .all()
      .find((s) => s.name === 'raft.Raft/AppendEntries' && s.attributes['raft.node.id'] === 'n2')!;
    expect(server.spanContext().traceId).toBe('a'.repeat(32));
    expect(server.links.map((l) => l.context.spanId)).toContain(p7.spanContext().spanId);
    const persist = spans.named('raft.persist').find((s) => s.attributes['raft.node.id'] === 'n2');
    expect(persist && parentId(persist)).toBe(server.spanContext().spanId);
  });

  it('3: the trace context in log entries does not depend on the global propagator', () => {
    propagation.disable();
    propagation.setGlobalPropagator(new CompositePropagator({ propagators: [] }));
    const tp = tracing.proposed(1, 2, {});
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    tracing.apply(
      entry(1, tp),
      () => null,
      () => ({}),
    );
    expect(parentId(spans.one('raft.apply'))).toBe(spans.one('raft.propose').spanContext().spanId);
  });

  it('4: a malformed traceparent in an entry means no parent: no apply span, and its append is an untraced root', async () => {
    tracing.apply(
      entry(1, 'not-a-traceparent'),
      () => null,
      () => ({}),
    );
    expect(spans.named('raft.apply')).toEqual([]);
    tracing.observe({
      type: 'election_ended',
      term: 2,
      preVote: false,
      outcome: 'won',
      granted: 2,
      rejected: 0,
      needed: 2,
    });
    await call(append([entry(1, '00-zz-yy-01')]));
    // Not a write's span: sampled as a heartbeat (off here), not as a root write with no kind.
    expect(spans.named('raft.Raft/AppendEntries')).toEqual([]);
  });

  it("6: the new leader's first AppendEntries round (its no-op) is in the election's trace", async () => {
    tracing.observe({ type: 'became_candidate', term: 2, votersNeeded: 2, transfer: false });
    tracing.observe({ type: 'vote_received', term: 2, from: 'n2', preVote: false, granted: true, reason: null });
    tracing.observe({ type: 'became_leader', term: 2, votes: ['n1', 'n2'] });
    tracing.observe({ type: 'entries_appended', term: 2, fromIndex: 4, toIndex: 4, leader: true });
    await call(append([{ index: 4, term: 2, type: 'noop', data: '', context: '' }]));
    tracing.observe({ type: 'commit_advanced', term: 2, from: 3, to: 4 });
    const election = spans.one('raft.election');
    const ae = spans.one('raft.Raft/AppendEntries');
    expect(ae.spanContext().traceId).toBe(election.spanContext().traceId);
    expect(parentId(ae)).toBe(election.spanContext().spanId);
    expect(election.attributes['raft.election.outcome']).toBe('won');
    expect(election.events.map((e) => e.name)).toContain('leader established: its no-op entry 4 is committed');
  });

  it('7: applies replayed after a restart say so', () => {
    tracing.replayUpTo(5);
    const tp = tracing.proposed(9, 2, {});
    tracing.apply(
      entry(3, tp.replace(/-[0-9a-f]{16}-/, '-00000000000000a3-')),
      () => null,
      () => ({}),
    );
    tracing.apply(
      entry(9, tp),
      () => null,
      () => ({}),
    );
    const byIndex = new Map(spans.named('raft.apply').map((s) => [s.attributes['raft.log.index'], s]));
    expect(byIndex.get(3)?.attributes['raft.apply.replay']).toBe(true);
    expect(byIndex.get(9)?.attributes['raft.apply.replay']).toBe(false);
  });

  it('11: an inbound cut is recorded, TimeoutNow is an admin call, finished reads are forgotten', async () => {
    tracing.hooks.chaos(
      {
        method: 'RequestVote',
        peer: 'n3',
        direction: 'in',
        message: {
          type: 'RequestVote',
          clusterId: 'c',
          from: 'n3',
          to: 'n1',
          term: 3,
          lastLogIndex: 0,
          lastLogTerm: 0,
          preVote: false,
          transfer: false,
        },
      },
      { kind: 'dropped_request', peer: 'n3', reason: 'link from n3 is cut' },
    );
    const cut = spans.all().find((s) => s.events.some((e) => e.name.startsWith('chaos: request dropped')));
    expect(cut, 'no span carries the inbound-cut event').toBeDefined();

    await tracing.hooks.serverCall(
      {
        method: 'TimeoutNow',
        peer: 'n2',
        message: { type: 'TimeoutNow', clusterId: 'c', from: 'n2', to: 'n1', term: 2 },
      },
      new Metadata(),
      () => Promise.resolve(null),
    );
    expect(spans.one('raft.Raft/TimeoutNow').attributes['raft.trace.kind']).toBe('admin');

    for (let i = 0; i < 50; i++) {
      tracing.readStarted(`r${i}`);
      tracing.observe({ type: 'read_index_ready', term: 2, requestId: `r${i}`, index: 1, lease: false });
    }
    tracing.readStarted('open');
    expect(tracing.openReads).toBe(1);
  });

  it('10: a server span is an error only for the server-fault codes; client spans name the peer address', async () => {
    const serve = (reason: RpcErrorCode) =>
      tracing.hooks
        .serverCall(
          {
            method: 'RequestVote',
            peer: 'n2',
            message: {
              type: 'RequestVote',
              clusterId: 'c',
              from: 'n2',
              to: 'n1',
              term: 3,
              lastLogIndex: 0,
              lastLogTerm: 0,
              preVote: false,
              transfer: false,
            },
          },
          new Metadata(),
          () => Promise.reject(new RpcError(reason, 'no')),
        )
        .catch(() => undefined);
    await serve('rejected'); // INVALID_ARGUMENT
    await serve('shutting_down'); // UNAVAILABLE
    // INVALID_ARGUMENT is the caller's fault: not an error of this server's span.
    const [invalid, unavailable] = spans.named('raft.Raft/RequestVote');
    expect(invalid.attributes['rpc.status_code']).toBe('INVALID_ARGUMENT');
    expect(invalid.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(unavailable.attributes['rpc.status_code']).toBe('UNAVAILABLE');
    expect(unavailable.status.code).toBe(SpanStatusCode.ERROR);

    await call(append([entry(1, tracing.proposed(1, 2, {}))]));
    const c = spans.one('raft.Raft/AppendEntries');
    expect(c.attributes['server.address']).toBe('127.0.0.1');
    expect(c.attributes['network.peer.address']).toBe('127.0.0.1');
    expect(c.attributes['network.peer.port']).toBe(7001);
  });
});

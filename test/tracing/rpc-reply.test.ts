// The RPC span hook reads the reply the transport already decoded (src/transport/client.ts decodes
// each gRPC reply once and hands the core message to the hook): a refused vote and a rejected
// append show their fields and their story on the CLIENT span, and the hook passes the same reply
// on to the transport untouched.
import { beforeEach, describe, expect, it } from 'vitest';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { RaftTracing } from '../../src/telemetry/raft-tracing.js';
import type { AppendEntriesResponse, RequestVote, RequestVoteResponse } from '../../src/raft/types.js';
import { recordSpans, type Spans } from './provider.js';

const gauges = { term: () => 3, role: () => 'candidate', commitIndex: () => 0, appliedIndex: () => 0 };
let spans: Spans;
let tracing: RaftTracing;
beforeEach(() => {
  spans = recordSpans();
  tracing = new RaftTracing('n1', gauges);
});

const vote: RequestVote = {
  type: 'RequestVote',
  clusterId: 'c',
  from: 'n1',
  to: 'n2',
  term: 3,
  lastLogIndex: 4,
  lastLogTerm: 2,
  preVote: false,
  transfer: false,
};

describe('RPC client spans from the decoded reply', () => {
  it('a refused vote: raft.vote.granted false, the reason, and an event saying so', async () => {
    tracing.observe({ type: 'became_candidate', term: 3, votersNeeded: 2, transfer: false });
    const reply: RequestVoteResponse = {
      type: 'RequestVoteResponse',
      clusterId: 'c',
      from: 'n2',
      to: 'n1',
      term: 3,
      granted: false,
      preVote: false,
      candidateTerm: 3,
      reason: 'log_not_up_to_date',
    };
    const got = await tracing.hooks.clientCall(
      { method: 'RequestVote', peer: 'n2', address: '127.0.0.1:7002', message: vote },
      () => Promise.resolve(reply),
    );
    expect(got).toBe(reply);
    const span = spans.one('raft.Raft/RequestVote');
    expect(span.attributes['raft.vote.granted']).toBe(false);
    expect(span.attributes['raft.vote.reject_reason']).toBe('log_not_up_to_date');
    expect(span.events.map((e) => e.name)).toContain('vote refused: log_not_up_to_date');
  });

  it('a rejected append: the conflict the follower reported', async () => {
    // A write proposed inside a sampled request: its AppendEntries is traced.
    const upstream = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      traceFlags: 1,
      isRemote: true,
    });
    const ctx = context.with(upstream, () => tracing.proposed(7, 3, {}));
    const reply: AppendEntriesResponse = {
      type: 'AppendEntriesResponse',
      clusterId: 'c',
      from: 'n2',
      to: 'n1',
      term: 3,
      success: false,
      matchIndex: 0,
      rejectedIndex: 6,
      conflictIndex: 4,
      conflictTerm: 2,
      lastLogIndex: 5,
      seq: 1,
      heartbeat: false,
    };
    await tracing.hooks.clientCall(
      {
        method: 'AppendEntries',
        peer: 'n2',
        address: '127.0.0.1:7002',
        message: {
          type: 'AppendEntries',
          clusterId: 'c',
          from: 'n1',
          to: 'n2',
          term: 3,
          prevLogIndex: 6,
          prevLogTerm: 3,
          entries: [{ index: 7, term: 3, type: 'normal', data: '{}', context: ctx }],
          leaderCommit: 0,
          seq: 1,
          heartbeat: false,
        },
      },
      () => Promise.resolve(reply),
    );
    const span = spans.one('raft.Raft/AppendEntries');
    expect(span.attributes).toMatchObject({
      'raft.append.success': false,
      'raft.conflict.index': 4,
      'raft.conflict.term': 2,
    });
    expect(
      span.events.some((e) => e.name.startsWith("rejected: the follower's log conflicts (term 2 from index 4)")),
    ).toBe(true);
  });
});

// What a trace is about, read from its root span the way the nodes tag it.
import { describe, expect, it } from 'vitest';
import { isHeartbeat, rootSpan, rpcPeer, spanKey, traceKind } from '../../src/traces/kinds.js';
import { type FlatSpan } from '../../src/traces/otlp.js';
import { parseTraceText } from '../../src/traces/documents.js';
import { electionSpans, otlpJsonBody } from './sdk-spans.js';

let n = 1;
function span(p: Partial<FlatSpan>): FlatSpan {
  return {
    traceId: 'a'.repeat(32),
    spanId: (n++).toString(16).padStart(16, '0'),
    name: 'x',
    kind: 'INTERNAL',
    service: 'raft-n1',
    nodeId: 'n1',
    startMs: 1000,
    endMs: 1001,
    attributes: {},
    events: [],
    links: [],
    status: { code: 'UNSET' },
    resource: {},
    ...p,
  };
}

describe('traceKind', () => {
  it('an election trace from real SDK spans, and the root is raft.election', () => {
    const spans = parseTraceText(otlpJsonBody(electionSpans('n2')));
    expect(traceKind(spans)).toBe('election');
    expect(rootSpan(spans)?.name).toBe('raft.election');
  });

  it('finer kinds from the root name or route; the tag otherwise', () => {
    const cases: [Partial<FlatSpan>, string][] = [
      [{ name: 'PUT /kv/{key}', attributes: { 'raft.trace.kind': 'write', 'http.route': '/kv/{key}' } }, 'write'],
      [{ name: 'GET /kv/{key}', attributes: { 'raft.trace.kind': 'read', 'http.route': '/kv/{key}' } }, 'read'],
      [
        {
          name: 'POST /locks/{name}/acquire',
          attributes: { 'raft.trace.kind': 'write', 'http.route': '/locks/{name}/acquire' },
        },
        'lock',
      ],
      [{ name: 'raft.transfer_leadership', attributes: { 'raft.trace.kind': 'admin' } }, 'transfer'],
      [{ name: 'raft.membership_change', attributes: { 'raft.trace.kind': 'admin' } }, 'membership'],
      [
        { name: 'POST /admin/chaos', attributes: { 'raft.trace.kind': 'admin', 'http.route': '/admin/chaos' } },
        'admin',
      ],
      [{ name: 'raft.snapshot', attributes: { 'raft.trace.kind': 'snapshot' } }, 'snapshot'],
      [
        {
          name: 'raft.Raft/AppendEntries',
          kind: 'CLIENT',
          attributes: { 'raft.heartbeat': true, 'raft.trace.kind': 'heartbeat' },
        },
        'heartbeat',
      ],
      [{ name: 'something else' }, 'other'],
    ];
    for (const [p, kind] of cases) expect([p.name, traceKind([span(p)])]).toEqual([p.name, kind]);
  });

  it('the root is the span whose parent is not in the trace (a trace seen in part)', () => {
    const a = span({ name: 'child-of-missing', parentSpanId: 'f'.repeat(16), startMs: 5 });
    const b = span({ name: 'child', parentSpanId: a.spanId, startMs: 1 });
    expect(rootSpan([b, a])?.name).toBe('child-of-missing');
  });
});

describe('span readings', () => {
  it('rpcPeer is the other end of an RPC; heartbeats are empty AppendEntries', () => {
    expect(rpcPeer(span({ kind: 'CLIENT', attributes: { 'raft.peer.id': 'n3' } }))).toBe('n3');
    expect(rpcPeer(span({}))).toBeUndefined();
    expect(isHeartbeat(span({ name: 'raft.Raft/AppendEntries', attributes: { 'raft.entries.count': 0 } }))).toBe(true);
    expect(isHeartbeat(span({ name: 'raft.Raft/AppendEntries', attributes: { 'raft.entries.count': 2 } }))).toBe(false);
  });

  it('spanKey reads raft.key, else the path of a kv request', () => {
    expect(spanKey(span({ attributes: { 'raft.key': 'k1' } }))).toBe('k1');
    expect(spanKey(span({ attributes: { 'url.path': '/kv/a%20b/cas' } }))).toBe('a b');
    expect(spanKey(span({}))).toBeUndefined();
  });
});

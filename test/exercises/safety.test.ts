// The two safety facts every `exercise check` asserts, and the sampling warnings, on spans made to
// break them: a check that could never fail would prove nothing.
import { describe, expect, it } from 'vitest';
import { oneLeaderPerTerm, oneTermPerIndex } from '../../src/exercises/safety.js';
import { samplingWarnings } from '../../src/exercises/sampling.js';
import type { FlatSpan } from '../../src/traces/otlp.js';

let next = 1;
function span(name: string, node: string, attributes: FlatSpan['attributes']): FlatSpan {
  const id = (next++).toString(16).padStart(16, '0');
  return {
    traceId: id.padStart(32, '0'),
    spanId: id,
    name,
    kind: 'INTERNAL',
    service: `raft-${node}`,
    nodeId: node,
    startMs: 1000,
    endMs: 1001,
    attributes,
    events: [],
    links: [],
    status: { code: 'UNSET' },
    resource: {},
  };
}
const won = (node: string, term: number) =>
  span('raft.election', node, { 'raft.term': term, 'raft.election.outcome': 'won' });
const apply = (node: string, index: number, term: number) =>
  span('raft.apply', node, { 'raft.log.index': index, 'raft.term': term });

describe('safety facts', () => {
  it('one leader per term: holds for one winner per term, fails for two winners of one term', () => {
    expect(oneLeaderPerTerm([won('n1', 1), won('n2', 2), won('n1', 3)], []).ok).toBe(true);
    const broken = oneLeaderPerTerm([won('n1', 4), won('n2', 4)], []);
    expect(broken.ok).toBe(false);
    expect(broken.what).toMatch(/two leaders were elected in term 4: n1 and n2/);
    expect(broken.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('one leader per term: a lost election does not count; two leaders in /status of one term do', () => {
    const lost = span('raft.election', 'n2', { 'raft.term': 5, 'raft.election.outcome': 'lost' });
    expect(oneLeaderPerTerm([won('n1', 5), lost], []).ok).toBe(true);
    expect(
      oneLeaderPerTerm(
        [won('n1', 6)],
        [
          { id: 'n1', term: 6 },
          { id: 'n3', term: 6 },
        ],
      ).ok,
    ).toBe(false);
  });

  it('one term per applied index: holds when every node applied the same entry, fails otherwise', () => {
    expect(oneTermPerIndex([apply('n1', 7, 2), apply('n2', 7, 2), apply('n3', 8, 3)]).ok).toBe(true);
    const broken = oneTermPerIndex([apply('n1', 9, 2), apply('n2', 9, 3)]);
    expect(broken.ok).toBe(false);
    expect(broken.what).toMatch(/index 9 was applied with different terms \(n1: term 2, n2: term 3\)/);
  });
});

describe('sampling warnings', () => {
  it('warns for a needed kind sampled below 1, heartbeats by default, a per-minute cap and the per-node rate', () => {
    expect(samplingWarnings(['election', 'write'], {})).toEqual([]);
    expect(samplingWarnings(['heartbeat'], {})[0]).toMatch(/RAFT_SAMPLE_HEARTBEATS=0 \(the default\): no heartbeat/);
    expect(samplingWarnings(['write'], { RAFT_SAMPLE_WRITES: '0.25' })[0]).toMatch(/only 25% of write traces/);
    expect(samplingWarnings(['write'], { RAFT_TRACES_PER_MINUTE: '20' })[0]).toMatch(/at most 20 new write, read/);
    // Elections are never capped: a cap on writes hides none of them.
    expect(samplingWarnings(['election'], { RAFT_TRACES_PER_MINUTE: '20' })).toEqual([]);
    // A check that needs every write of a bench warns under the default rate, and not with it off.
    expect(samplingWarnings(['write'], {}, true)[0]).toMatch(/RAFT_TRACE_RATE=5 \(the default\).*RAFT_TRACE_RATE=0/);
    expect(samplingWarnings(['write'], { RAFT_TRACE_RATE: '0' }, true)).toEqual([]);
    expect(samplingWarnings(['heartbeat'], { RAFT_SAMPLE_HEARTBEATS: '1' })).toEqual([]);
  });
});

// AppendEntries batches stay below the transport's message size limit: the leader cuts a batch at
// a character budget (always sending at least one entry, so a large entry still goes through).
import { describe, expect, it } from 'vitest';
import { RaftLog } from '../../src/raft/log.js';
import type { Entry } from '../../src/raft/types.js';

const entry = (index: number, size: number): Entry => ({
  index,
  term: 1,
  type: 'normal',
  data: 'x'.repeat(size),
  context: '',
});

describe('batch size', () => {
  const log = new RaftLog(null, [entry(1, 400), entry(2, 400), entry(3, 400), entry(4, 5000), entry(5, 10)]);

  it('cuts a batch at the character budget', () => {
    expect(log.slice(1, 5, 100, 1000).map((e) => e.index)).toEqual([1, 2]);
    expect(log.slice(1, 5, 100, 1200).map((e) => e.index)).toEqual([1, 2, 3]);
  });

  it('always sends at least one entry, however large', () => {
    expect(log.slice(4, 5, 100, 1000).map((e) => e.index)).toEqual([4]);
  });

  it('is bounded by the entry count too, and unlimited without a budget', () => {
    expect(log.slice(1, 5, 2).map((e) => e.index)).toEqual([1, 2]);
    expect(log.slice(1, 5).map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
  });
});

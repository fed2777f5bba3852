// The checker must itself be right: it flags known non-linearizable histories, accepts known
// linearizable ones, accepts every randomly generated linearizable history, and flags each one
// once a read is corrupted.
import { describe, expect, it } from 'vitest';
import { checkHistory, describeFailure, type Op } from '../../src/check/linearizability.js';
import { Rng } from '../../src/sim/rng.js';

let id = 0;
const w = (client: number, value: string, call: number, ret: number, status: Op['status'] = 'ok'): Op => ({
  id: ++id,
  client,
  key: 'x',
  kind: 'write',
  value,
  status,
  call,
  ret: status === 'unknown' ? Infinity : ret,
});
const r = (client: number, result: string | null, call: number, ret: number): Op => ({
  id: ++id,
  client,
  key: 'x',
  kind: 'read',
  status: 'ok',
  result,
  call,
  ret,
});
const cas = (
  client: number,
  expected: string | null,
  value: string,
  swapped: boolean | undefined,
  call: number,
  ret: number,
): Op => ({
  id: ++id,
  client,
  key: 'x',
  kind: 'cas',
  expected,
  value,
  swapped,
  status: swapped === undefined ? 'unknown' : 'ok',
  call,
  ret: swapped === undefined ? Infinity : ret,
});

describe('known non-linearizable histories', () => {
  it('flags a stale read', () => {
    const res = checkHistory([w(1, 'a', 0, 10), w(1, 'b', 20, 30), r(2, 'a', 40, 50)]);
    expect(res.linearizable).toBe(false);
    expect(res.failures[0].culprit.kind).toBe('read');
    expect(describeFailure(res.failures[0])).toMatch(/read x -> "a"/);
  });

  it('flags a lost write', () => {
    expect(checkHistory([w(1, 'a', 0, 10), r(2, null, 20, 30)]).linearizable).toBe(false);
  });

  it('flags two compare-and-set winners from one expected value', () => {
    expect(checkHistory([cas(1, null, 'a', true, 0, 10), cas(2, null, 'b', true, 5, 15)]).linearizable).toBe(false);
  });

  it('flags a read of a value never written', () => {
    expect(checkHistory([w(1, 'a', 0, 10), r(2, 'zzz', 0, 20)]).linearizable).toBe(false);
  });

  it('flags a value that flickers back (read b, then a, with no later write of a)', () => {
    const res = checkHistory([w(1, 'a', 0, 10), w(2, 'b', 15, 20), r(3, 'b', 25, 30), r(3, 'a', 35, 40)]);
    expect(res.linearizable).toBe(false);
  });
});

describe('known linearizable histories', () => {
  it('accepts either value for a read concurrent with a write', () => {
    for (const seen of ['a', 'b'])
      expect(checkHistory([w(1, 'a', 0, 10), w(2, 'b', 20, 40), r(3, seen, 25, 35)]).linearizable).toBe(true);
  });

  it('accepts one CAS winner and one loser', () => {
    expect(
      checkHistory([cas(1, null, 'a', true, 0, 10), cas(2, null, 'b', false, 5, 15), r(3, 'a', 20, 30)]).linearizable,
    ).toBe(true);
  });

  it('lets an operation with unknown outcome take effect late, or never', () => {
    // The write timed out; a read long after still sees its value...
    expect(checkHistory([w(1, 'a', 0, 10), w(2, 'b', 20, 0, 'unknown'), r(3, 'b', 500, 510)]).linearizable).toBe(true);
    // ...or never sees it.
    expect(checkHistory([w(1, 'a', 0, 10), w(2, 'b', 20, 0, 'unknown'), r(3, 'a', 500, 510)]).linearizable).toBe(true);
    // But it cannot take effect before it was invoked.
    expect(checkHistory([w(1, 'a', 0, 10), r(3, 'b', 12, 15), w(2, 'b', 20, 0, 'unknown')]).linearizable).toBe(false);
    // An unknown CAS either swapped or did not.
    expect(checkHistory([w(1, 'a', 0, 10), cas(2, 'a', 'c', undefined, 20, 0), r(3, 'c', 100, 110)]).linearizable).toBe(
      true,
    );
  });

  it('checks keys independently', () => {
    const other: Op = { ...r(2, null, 40, 50), key: 'y' };
    expect(checkHistory([w(1, 'a', 0, 10), other, r(3, 'a', 60, 70)]).keys).toBe(2);
  });
});

describe('randomized histories', () => {
  /** A real register with concurrent clients: each operation takes effect at a random instant
   *  between its call and its return, so the history is linearizable by construction. */
  function generate(seed: number, clients = 5, opsPerClient = 30): Op[] {
    const rng = new Rng(seed);
    const planned: { op: Op; at: number }[] = [];
    let n = 0;
    for (let c = 0; c < clients; c++) {
      let t = rng.int(0, 20);
      for (let i = 0; i < opsPerClient; i++) {
        const call = t;
        const ret = call + rng.int(1, 40);
        const at = call + rng.next() * (ret - call);
        const roll = rng.next();
        const kind = roll < 0.4 ? 'read' : roll < 0.75 ? 'write' : 'cas';
        const op: Op = { id: ++n, client: c, key: rng.chance(0.5) ? 'x' : 'y', kind, status: 'ok', call, ret };
        if (kind === 'write') op.value = `v${n}`;
        if (kind === 'cas') {
          op.value = `v${n}`;
          op.expected = rng.chance(0.3) ? null : `v${rng.int(1, n)}`;
        }
        if (kind !== 'read' && rng.chance(0.1)) {
          op.status = 'unknown';
          op.ret = Infinity;
        }
        planned.push({ op, at });
        t = ret + rng.int(0, 10);
      }
    }
    // Apply at the linearization points, in order, to produce the outputs.
    const state = new Map<string, string | null>();
    for (const { op, at } of [...planned].sort((a, b) => a.at - b.at)) {
      const cur = state.get(op.key) ?? null;
      if (op.status === 'unknown' && op.kind !== 'read' && rng.chance(0.5)) continue; // it never happened
      if (op.kind === 'read') op.result = cur;
      else if (op.kind === 'write') state.set(op.key, op.value!);
      else {
        const swapped = cur === op.expected;
        if (op.status === 'ok') op.swapped = swapped;
        if (swapped) state.set(op.key, op.value!);
      }
      void at;
    }
    return planned.map((p) => p.op);
  }

  it('accepts 200 random linearizable histories and flags each once a read is corrupted', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const h = generate(seed);
      const res = checkHistory(h);
      expect(res.linearizable, `seed ${seed}: ${res.failures.map((f) => describeFailure(f)).join('\n')}`).toBe(true);
      const reads = h.filter((o) => o.kind === 'read');
      const victim = reads[seed % reads.length];
      victim.result = 'never-written';
      expect(checkHistory(h).linearizable, `seed ${seed} corrupted`).toBe(false);
    }
  });
});

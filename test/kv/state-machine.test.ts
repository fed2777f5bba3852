// The replicated state machine on its own: leases that expire by log time, strictly increasing
// fencing tokens, fenced writes, idempotent requests, bounded memory, snapshots.
import { describe, expect, it } from 'vitest';
import type { KvCommand, KvResult } from '../../src/kv/commands.js';
import { LIMITS } from '../../src/kv/commands.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';

function runner() {
  const sm = new KvStateMachine();
  let index = 0;
  const apply = (cmd: KvCommand): KvResult =>
    sm.apply({ index: ++index, term: 1, type: 'normal', data: JSON.stringify(cmd), context: '' })!;
  return { sm, apply };
}

describe('locks', () => {
  it('grants one holder at a time, with a fencing token that strictly increases', () => {
    const { apply } = runner();
    const a = apply({ op: 'lock_acquire', name: 'L', owner: 'A', ttlMs: 1000, now: 1000 });
    expect(a).toMatchObject({ granted: true, token: 1, expiresAt: 2000 });
    expect(apply({ op: 'lock_acquire', name: 'L', owner: 'B', ttlMs: 1000, now: 1500 })).toMatchObject({
      granted: false,
      holder: 'A',
    });
    // The lease runs out by log time; B gets it with a larger token.
    expect(apply({ op: 'lock_acquire', name: 'L', owner: 'B', ttlMs: 1000, now: 2000 })).toMatchObject({
      granted: true,
      token: 2,
    });
    expect(apply({ op: 'lock_renew', name: 'L', owner: 'A', token: 1, now: 2100 })).toMatchObject({ ok: false });
    expect(apply({ op: 'lock_renew', name: 'L', owner: 'B', token: 2, now: 2900 })).toMatchObject({
      ok: true,
      expiresAt: 3900,
    });
    expect(apply({ op: 'lock_release', name: 'L', owner: 'B', token: 2, now: 3000 })).toMatchObject({ ok: true });
    expect(apply({ op: 'lock_acquire', name: 'L', owner: 'C', ttlMs: 500, now: 3001 })).toMatchObject({
      granted: true,
      token: 3,
    });
    expect(apply({ op: 'lock_acquire', name: 'other', owner: 'C', ttlMs: 500, now: 3002 })).toMatchObject({
      granted: true,
      token: 1,
    });
  });

  it("never lets time go back when a new leader's clock is behind", () => {
    const { sm, apply } = runner();
    apply({ op: 'lock_acquire', name: 'L', owner: 'A', ttlMs: 1000, now: 5000 });
    // A new leader whose clock reads 3000: the lease must not look longer, nor time reverse.
    expect(apply({ op: 'lock_acquire', name: 'L', owner: 'B', ttlMs: 1000, now: 3000 })).toMatchObject({
      granted: false,
    });
    expect(sm.clock).toBe(5000);
    expect(apply({ op: 'lock_acquire', name: 'L', owner: 'B', ttlMs: 1000, now: 6000 })).toMatchObject({
      granted: true,
      token: 2,
    });
  });

  it('refuses writes with a stale fencing token (Kleppmann) and tokens never issued', () => {
    const { sm, apply } = runner();
    apply({ op: 'lock_acquire', name: 'L', owner: 'A', ttlMs: 1000, now: 0 });
    expect(apply({ op: 'put', key: 'k', value: 'A1', fence: { lock: 'L', token: 1 }, now: 10 })).toMatchObject({
      op: 'put',
    });
    apply({ op: 'lock_acquire', name: 'L', owner: 'B', ttlMs: 1000, now: 2000 });
    expect(apply({ op: 'put', key: 'k', value: 'B', fence: { lock: 'L', token: 2 }, now: 2010 })).toMatchObject({
      op: 'put',
    });
    const late = apply({ op: 'put', key: 'k', value: 'A-late', fence: { lock: 'L', token: 1 }, now: 2020 });
    expect(late).toMatchObject({ op: 'error', code: 'fenced' });
    expect((late as { message: string }).message).toMatch(/token 1 .* stale: token 2 was issued since/);
    expect(apply({ op: 'delete', key: 'k', fence: { lock: 'L', token: 1 } })).toMatchObject({ code: 'fenced' });
    expect(apply({ op: 'cas', key: 'k', expected: 'B', value: 'x', fence: { lock: 'L', token: 9 } })).toMatchObject({
      code: 'unknown_fencing_token',
    });
    expect(sm.get('k')).toBe('B');
  });
});

describe('idempotency', () => {
  it('applies a request once and answers retries with the first result', () => {
    const { sm, apply } = runner();
    const first = apply({ op: 'cas', key: 'k', expected: null, value: 'v', idem: 'req-1' });
    expect(first).toMatchObject({ swapped: true, index: 1 });
    // Without the key a retried CAS would now fail; with it, the retry gets the original answer.
    expect(apply({ op: 'cas', key: 'k', expected: null, value: 'v', idem: 'req-1' })).toEqual(first);
    expect(apply({ op: 'cas', key: 'k', expected: null, value: 'v' })).toMatchObject({ swapped: false });
    expect(apply({ op: 'put', key: 'k', value: 'other', idem: 'req-1' })).toMatchObject({
      op: 'error',
      code: 'idempotency_key_reused',
    });
    expect(sm.get('k')).toBe('v');
  });

  it('remembers a bounded number of keys, oldest forgotten first, and for a bounded time', () => {
    const { sm, apply } = runner();
    for (let i = 0; i < LIMITS.idempotencyKeys + 50; i++)
      apply({ op: 'put', key: 'k', value: `${i}`, idem: `r${i}`, now: 1 });
    expect(sm.remembered.size).toBeLessThanOrEqual(LIMITS.idempotencyKeys + 1);
    expect(sm.remembered.has('r0')).toBe(false);
    expect(sm.remembered.has(`r${LIMITS.idempotencyKeys + 49}`)).toBe(true);
    apply({ op: 'put', key: 'k', value: 'late', idem: 'late', now: 2 + LIMITS.idempotencyTtlMs });
    expect(sm.remembered.size).toBe(1);
  });

  it('carries locks, fencing marks and remembered keys through a snapshot', () => {
    const { sm, apply } = runner();
    apply({ op: 'lock_acquire', name: 'L', owner: 'A', ttlMs: 1000, now: 100 });
    apply({ op: 'put', key: 'k', value: 'v', idem: 'once', now: 200 });
    const copy = new KvStateMachine();
    copy.restore(sm.snapshot(), sm.appliedIndex);
    expect(copy.snapshot()).toBe(sm.snapshot());
    const replay = copy.apply({
      index: 3,
      term: 1,
      type: 'normal',
      data: JSON.stringify({ op: 'put', key: 'k', value: 'v', idem: 'once', now: 300 }),
      context: '',
    });
    expect(replay).toMatchObject({ op: 'put', index: 2 });
    expect(
      copy.apply({
        index: 4,
        term: 1,
        type: 'normal',
        data: JSON.stringify({ op: 'lock_acquire', name: 'L', owner: 'B', ttlMs: 10, now: 400 }),
        context: '',
      }),
    ).toMatchObject({ granted: false, holder: 'A' });
  });
});

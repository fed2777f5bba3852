// Entries reach the state machine from disk and from peers: one it cannot read is refused with an
// error result at its index, never thrown (a throw in apply would stop the node on every replay).
import { describe, expect, it } from 'vitest';
import { KvStateMachine } from '../../src/kv/state-machine.js';

describe('entries the state machine cannot read', () => {
  it.each([
    ['not JSON', '{', 'bad_command'],
    ['JSON null', 'null', 'bad_command'],
    ['a JSON number', '3', 'bad_command'],
    ['no op', '{"key":"k"}', 'unknown_op'],
    ['an op this version does not know', '{"op":"drop_table"}', 'unknown_op'],
    ["an Object.prototype member's name", '{"op":"__proto__"}', 'unknown_op'],
    ["another one's", '{"op":"constructor"}', 'unknown_op'],
  ])('%s is an error result, and the machine goes on', (_what, data, code) => {
    const sm = new KvStateMachine();
    const bad = sm.apply({ index: 1, term: 1, type: 'normal', data, context: '' });
    expect(bad).toMatchObject({ op: 'error', code, index: 1 });
    // The index still counts as applied, and the next good entry works.
    const good = sm.apply({
      index: 2,
      term: 1,
      type: 'normal',
      data: JSON.stringify({ op: 'put', key: 'k', value: 'v', now: 1 }),
      context: '',
    });
    expect(good).toMatchObject({ op: 'put' });
    expect(sm.appliedIndex).toBe(2);
  });
});

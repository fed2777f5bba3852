// What a key/value command and its result say on spans (raft.propose, raft.apply): the op, the
// key or lock, fencing and idempotency, and the outcome, with refusals (a fenced write, a held
// lock) as result codes that the apply span also shows as events.
import type { Attributes } from '@opentelemetry/api';
import type { KvCommand, KvResult } from '../kv/commands.js';
import { ATTR } from './names.js';

/** Span attributes for a command: what it does, to which key or lock. */
export function commandAttributes(cmd: KvCommand): Attributes {
  const a: Attributes = { [ATTR.op]: cmd.op };
  if ('key' in cmd) a[ATTR.key] = cmd.key;
  if ('name' in cmd) a[ATTR.lockName] = cmd.name;
  if ('token' in cmd) a[ATTR.lockToken] = cmd.token;
  if (cmd.fence) Object.assign(a, { [ATTR.fenceLock]: cmd.fence.lock, [ATTR.fenceToken]: cmd.fence.token });
  if (cmd.idem) a[ATTR.idempotencyKey] = cmd.idem;
  return a;
}

/** Span attributes for a result: errors (fenced writes, refused locks) become span events. */
export function describeResult(r: KvResult | null): Attributes {
  if (!r) return {};
  const a: Attributes = { [ATTR.op]: r.op };
  if (r.op === 'error') a[ATTR.resultCode] = r.code;
  if (r.op === 'lock_acquire')
    Object.assign(
      a,
      r.granted ? { [ATTR.lockToken]: r.token } : { [ATTR.resultCode]: 'lock_held', [ATTR.lockHolder]: r.holder },
    );
  if ((r.op === 'lock_renew' || r.op === 'lock_release') && !r.ok) a[ATTR.resultCode] = 'not_holder';
  if (r.op === 'cas') a[ATTR.casSwapped] = r.swapped;
  return a;
}

// Leased locks with fencing tokens (the README's /locks/{name}/... endpoints). A lock is the same
// problem as electing a leader: one holder at a time, for a lease. Each acquisition returns a
// fencing token that strictly increases per lock; writes that present an older token than the
// newest one seen are refused (409), so a holder that stalled past its lease cannot do harm.
import { Router } from 'express';
import { LIMITS } from '../kv/commands.js';
import { ClientError } from '../node/errors.js';
import type { NodeSurface } from '../node/surface.js';
import { bodyField, checkedKey, write } from './writes.js';
import { handle } from './respond.js';

function owner(v: unknown): string {
  if (typeof v !== 'string' || !v || Buffer.byteLength(v) > LIMITS.tokenBytes)
    throw new ClientError('bad_request', `"owner" must be a string of 1 to ${LIMITS.tokenBytes} bytes`);
  return v;
}

function ttl(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < LIMITS.minTtlMs || v > LIMITS.maxTtlMs) {
    throw new ClientError(
      'bad_request',
      `"ttlMs" must be whole milliseconds between ${LIMITS.minTtlMs} and ${LIMITS.maxTtlMs}`,
    );
  }
  return v;
}

function token(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw new ClientError('bad_request', '"token" must be the fencing token acquire returned');
  return v;
}

export function locksRouter(node: NodeSurface): Router {
  const r = Router();

  r.post(
    '/:name/acquire',
    handle(async (req, res) => {
      const name = checkedKey(req.params.name);
      const cmd = {
        op: 'lock_acquire' as const,
        name,
        owner: owner(bodyField(req, 'owner')),
        ttlMs: ttl(bodyField(req, 'ttlMs')),
      };
      await write(node, req, res, cmd, (x) => {
        if (x.op !== 'lock_acquire') return false;
        if (x.granted) return { name, token: x.token, expiresAt: x.expiresAt, index: x.index };
        throw new ClientError('lock_held', `lock "${name}" is held by ${x.holder} until log time ${x.expiresAt}`, {
          holder: x.holder,
          expiresAt: x.expiresAt,
        });
      });
    }),
  );

  for (const action of ['renew', 'release'] as const) {
    r.post(
      `/:name/${action}`,
      handle(async (req, res) => {
        const name = checkedKey(req.params.name);
        const body = req.body as Record<string, unknown>;
        const base = { name, owner: owner(bodyField(req, 'owner')), token: token(bodyField(req, 'token')) };
        const cmd =
          action === 'renew'
            ? { op: 'lock_renew' as const, ...base, ...(body.ttlMs !== undefined ? { ttlMs: ttl(body.ttlMs) } : {}) }
            : { op: 'lock_release' as const, ...base };
        await write(node, req, res, cmd, (x) => {
          if (x.op !== `lock_${action}`) return false;
          const o = x as { ok: boolean; expiresAt: number; reason?: string; index: number };
          if (!o.ok) throw new ClientError('not_holder', o.reason ?? 'not the holder');
          return action === 'renew'
            ? { name, token: base.token, expiresAt: o.expiresAt, index: o.index }
            : { name, released: true, index: o.index };
        });
      }),
    );
  }

  /** A linearizable look at a lock: who holds it, and the newest fencing token. */
  r.get(
    '/:name',
    handle(async (req, res) => {
      const name = checkedKey(req.params.name);
      await node.read(name, 'linearizable', 0, req.traceContext);
      const { holder, highestToken, logTime } = node.lockView(name);
      res.json({ name, held: !!holder, ...(holder ?? {}), highestToken, logTime });
    }),
  );
  return r;
}

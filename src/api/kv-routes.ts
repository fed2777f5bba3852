// The key/value endpoints (README "HTTP API"): read, write, delete and compare-and-swap a key. Each
// handler reads and answers through respond.ts's narrow interfaces, so Express (app.ts) and the
// fast path (fast-path.ts) serve them with the same code.
import { valueProblem, valueTooLong } from '../kv/commands.js';
import { ClientError } from '../node/errors.js';
import type { NodeSurface, ReadConsistency } from '../node/surface.js';
import type { ApiRequest, ApiResponse } from './respond.js';
import { bodyField, checkedKey, write } from './writes.js';

export type KvHandler = (node: NodeSurface, req: ApiRequest, res: ApiResponse) => Promise<void>;

/** GET /kv/{key}?consistency=linearizable|lease|stale[&maxStalenessMs=N] */
export const getKey: KvHandler = async (node, req, res) => {
  const key = checkedKey(req.params.key);
  const consistency = (req.query.consistency ?? 'linearizable') as ReadConsistency;
  if (!['linearizable', 'lease', 'stale'].includes(consistency)) {
    throw new ClientError(
      'bad_request',
      `consistency must be linearizable, lease or stale, not "${String(consistency)}"`,
    );
  }
  let maxStalenessMs = 0;
  if (consistency === 'stale') {
    maxStalenessMs = Number(req.query.maxStalenessMs);
    if (req.query.maxStalenessMs === undefined || !Number.isFinite(maxStalenessMs) || maxStalenessMs < 0) {
      throw new ClientError('bad_request', 'consistency=stale needs maxStalenessMs, a number of milliseconds >= 0');
    }
  }
  const { value, index } = await node.read(key, consistency, maxStalenessMs, req.traceContext);
  if (value === undefined) throw new ClientError('key_not_found', `no key "${key}"`, { index });
  res.json({ key, value, index });
};

/** PUT /kv/{key} {"value": "..."} */
export const putKey: KvHandler = async (node, req, res) => {
  const key = checkedKey(req.params.key);
  const value = bodyField(req, 'value');
  const valueErr = valueProblem(value);
  if (valueErr) throw new ClientError('bad_value', valueErr, {}, valueTooLong(value));
  await write(
    node,
    req,
    res,
    { op: 'put', key, value: value as string },
    (r) => r.op === 'put' && { key, value: r.value, index: r.index },
  );
};

/** DELETE /kv/{key} */
export const deleteKey: KvHandler = async (node, req, res) => {
  const key = checkedKey(req.params.key);
  await write(
    node,
    req,
    res,
    { op: 'delete', key },
    (r) => r.op === 'delete' && { key, index: r.index, existed: r.existed },
  );
};

/** POST /kv/{key}/cas {"expected": "..." | null, "value": "..."} */
export const casKey: KvHandler = async (node, req, res) => {
  const key = checkedKey(req.params.key);
  const expected = bodyField(req, 'expected');
  const value = bodyField(req, 'value');
  if (expected !== null && typeof expected !== 'string')
    throw new ClientError('bad_request', 'expected must be a string, or null for "absent"');
  const valueErr = valueProblem(value);
  if (valueErr) throw new ClientError('bad_value', valueErr, {}, valueTooLong(value));
  await write(node, req, res, { op: 'cas', key, expected, value: value as string }, (r) => {
    if (r.op !== 'cas') return false;
    if (r.swapped) return { swapped: true, index: r.index };
    res.status(412);
    return { swapped: false, current: r.current, index: r.index };
  });
};

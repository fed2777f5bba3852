// The HTTP API of one node (JSON in, JSON out). The table in README "HTTP API" is the contract.
//
// Writes sent to a follower are forwarded to the leader (the hop shows in traces); every response
// names the leader in X-Raft-Leader. Without a leader, requests fail fast with 503 and
// Retry-After. Errors are {error: {code, message}} with the right status. /admin/ exists only
// when the node was started with --admin.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { KvCommand, KvResult } from '../kv/commands.js';
import { keyProblem, LIMITS, valueProblem } from '../kv/commands.js';
import { ClientError, noLeader } from '../node/errors.js';
import type { RaftNode, ReadConsistency } from '../node/node.js';
import { adminRouter } from './admin.js';
import { handle, sendError } from './respond.js';

const FORWARDED_BY = 'x-raft-forwarded-by';

export function createApp(node: RaftNode): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    res.setHeader('X-Raft-Node', node.cfg.id);
    const leader = node.leaderId();
    if (leader) res.setHeader('X-Raft-Leader', leader);
    next();
  });
  app.use(express.json({ limit: LIMITS.bodyBytes, strict: true, type: () => true }));

  app.get('/status', (_req, res) => {
    res.json(node.status());
  });

  app.get('/kv/:key', handle(async (req, res) => {
    const key = checkedKey(req.params.key);
    const consistency = (req.query.consistency ?? 'linearizable') as ReadConsistency;
    if (!['linearizable', 'lease', 'stale'].includes(consistency)) {
      throw new ClientError(400, 'bad_request', `consistency must be linearizable, lease or stale, not "${String(consistency)}"`);
    }
    let maxStalenessMs = 0;
    if (consistency === 'stale') {
      maxStalenessMs = Number(req.query.maxStalenessMs);
      if (req.query.maxStalenessMs === undefined || !Number.isFinite(maxStalenessMs) || maxStalenessMs < 0) {
        throw new ClientError(400, 'bad_request', 'consistency=stale needs maxStalenessMs, a number of milliseconds >= 0');
      }
    }
    const { value, index } = await node.read(key, consistency, maxStalenessMs);
    if (value === undefined) throw new ClientError(404, 'key_not_found', `no key "${key}"`, { index });
    res.json({ key, value, index });
  }));

  app.put('/kv/:key', handle(async (req, res) => {
    const key = checkedKey(req.params.key);
    const value = bodyField(req, 'value');
    const valueErr = valueProblem(value);
    if (valueErr) throw new ClientError(valueErr.includes('longer') ? 413 : 400, 'bad_value', valueErr);
    await write(node, req, res, { op: 'put', key, value: value as string }, (r) => r.op === 'put' && { key, value: r.value, index: r.index });
  }));

  app.delete('/kv/:key', handle(async (req, res) => {
    const key = checkedKey(req.params.key);
    await write(node, req, res, { op: 'delete', key }, (r) => r.op === 'delete' && { key, index: r.index, existed: r.existed });
  }));

  app.post('/kv/:key/cas', handle(async (req, res) => {
    const key = checkedKey(req.params.key);
    const expected = bodyField(req, 'expected');
    const value = bodyField(req, 'value');
    if (expected !== null && typeof expected !== 'string') throw new ClientError(400, 'bad_request', 'expected must be a string, or null for "absent"');
    const valueErr = valueProblem(value);
    if (valueErr) throw new ClientError(valueErr.includes('longer') ? 413 : 400, 'bad_value', valueErr);
    await write(node, req, res, { op: 'cas', key, expected: expected as string | null, value: value as string }, (r) => {
      if (r.op !== 'cas') return false;
      if (r.swapped) return { swapped: true, index: r.index };
      res.status(412);
      return { swapped: false, current: r.current, index: r.index };
    });
  }));

  if (node.cfg.admin) app.use('/admin', adminRouter(node));
  else {
    app.use('/admin', (_req, res) => {
      sendError(res, new ClientError(403, 'admin_disabled', 'the admin API is off on this node; start it with --admin (RAFT_ADMIN=true) to enable it'));
    });
  }

  app.use((req, res) => {
    sendError(res, new ClientError(404, 'not_found', `no endpoint ${req.method} ${req.path}; see README "HTTP API"`));
  });

  // Express hands body-parser failures and anything thrown here.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') return sendError(res, new ClientError(400, 'bad_json', `the body is not valid JSON: ${e.message}`));
    if (e.type === 'entity.too.large') return sendError(res, new ClientError(413, 'body_too_large', `the body is larger than ${LIMITS.bodyBytes} bytes`));
    if (err instanceof ClientError) return sendError(res, err);
    node.log.error('http_error', { error: e.message ?? String(err) });
    sendError(res, new ClientError(500, 'internal', 'internal error; the node logged the details'));
  });
  return app;
}

function checkedKey(key: string | string[]): string {
  if (Array.isArray(key)) throw new ClientError(400, 'bad_key', 'one key per request');
  const problem = keyProblem(key);
  if (problem) throw new ClientError(problem.includes('longer') ? 414 : 400, 'bad_key', problem);
  return key;
}

function bodyField(req: Request, name: string): unknown {
  const body = req.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ClientError(400, 'bad_request', `the body must be a JSON object with "${name}"`);
  if (!(name in body)) throw new ClientError(400, 'bad_request', `the body has no "${name}"`);
  return body[name];
}

/** Runs a write on the leader: here if this node leads, else by forwarding the request. */
async function write(
  node: RaftNode,
  req: Request,
  res: Response,
  cmd: KvCommand,
  shape: (r: KvResult) => object | false,
): Promise<void> {
  if (!node.isLeader()) return forward(node, req, res);
  const result = await node.propose(cmd);
  if (!result) throw new ClientError(500, 'internal', 'the write was applied without a result');
  if (result.op === 'error') throw new ClientError(400, result.code, result.message);
  const body = shape(result);
  if (!body) throw new ClientError(500, 'internal', `unexpected result ${result.op}`);
  res.json(body);
}

/** Sends the client's request on to the leader and relays its answer. */
async function forward(node: RaftNode, req: Request, res: Response): Promise<void> {
  const leader = node.leaderId();
  if (!leader) throw noLeader(node.cfg.id);
  if (req.headers[FORWARDED_BY]) {
    throw new ClientError(503, 'not_leader', `${node.cfg.id} received a forwarded write but is not the leader (leader: ${leader}); retry`, { leader });
  }
  const addr = node.address(leader);
  if (!addr) throw new ClientError(503, 'leader_unknown_address', `no HTTP address known for leader ${leader}`);
  let upstream: globalThis.Response;
  try {
    upstream = await fetch(`http://${addr.http}${req.originalUrl}`, {
      method: req.method,
      headers: { 'content-type': 'application/json', [FORWARDED_BY]: node.cfg.id, 'x-raft-cluster': node.cfg.clusterId },
      body: req.method === 'DELETE' ? undefined : JSON.stringify(req.body),
      signal: AbortSignal.timeout(node.cfg.requestTimeoutMs + 1000),
    });
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED') {
      throw new ClientError(503, 'leader_unreachable', `leader ${leader} refused the connection; the write was not applied, retry`, { leader });
    }
    throw new ClientError(504, 'outcome_unknown', `lost contact with leader ${leader} while forwarding (${(e as Error).message}). The write may or may not have been applied`, { leader });
  }
  res.status(upstream.status);
  for (const h of ['retry-after', 'x-raft-leader']) {
    const v = upstream.headers.get(h);
    if (v) res.setHeader(h, v);
  }
  res.setHeader('X-Raft-Forwarded-To', leader);
  res.type('application/json').send(await upstream.text());
}

// Running a write: on the leader directly, or forwarded to it from a follower, with the client's
// Idempotency-Key and X-Fencing-Token carried inside the command.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { KvCommand, KvResult } from '../kv/commands.js';
import { keyProblem, LIMITS, parseFence } from '../kv/commands.js';
import { ClientError, noLeader } from '../node/errors.js';
import type { NodeSurface } from '../node/surface.js';
import { withClientSpan } from '../telemetry/http.js';

const FORWARDED_BY = 'x-raft-forwarded-by';
/** Proves that this one request was forwarded by a node of this cluster: "<ms>.<nonce>.<hmac>", an
 *  HMAC under the cluster secret of the sender, the method, the path, the time and a random nonce
 *  (the secret itself never travels over HTTP). Someone who sees a forwarded request cannot reuse
 *  its proof: it names that request only, is accepted once, and only for PROOF_MAX_AGE_MS. */
const FORWARD_PROOF = 'x-raft-forward-proof';
/** How far a proof's time may be from the receiver's clock (either way: nodes' clocks differ a little). */
export const PROOF_MAX_AGE_MS = 5000;
/** More proofs than this inside one PROOF_MAX_AGE_MS window are not honoured (the replay memory is bounded). */
const MAX_REMEMBERED_PROOFS = 100_000;
/** Request headers that must reach the leader with a forwarded write (trace context is injected
 *  afresh: the leader's span becomes the child of this node's forwarding span). */
const FORWARDED_HEADERS = ['idempotency-key', 'x-fencing-token'];

function proofMac(secret: string, from: string, method: string, path: string, ms: number, nonce: string): string {
  return createHmac('sha256', secret)
    .update(`raft-otel forward\n${from}\n${method.toUpperCase()}\n${path}\n${ms}\n${nonce}`)
    .digest('hex');
}

/** The X-Raft-Forward-Proof value for forwarding `method path` from node `from`, now. */
export function forwardProof(secret: string, from: string, method: string, path: string, ms = Date.now()): string {
  const nonce = randomBytes(12).toString('hex');
  return `${ms}.${nonce}.${proofMac(secret, from, method, path, ms, nonce)}`;
}

/** Honours X-Raft-Forwarded-By only with a fresh, unused proof for this very request: a client
 *  must not make a node believe a write was forwarded to it (that node would refuse to forward it
 *  on, or trace a hop that never happened). Without a secret, the header is never honoured (a
 *  forwarded write may then hop twice while leadership moves; each hop has a timeout). */
export function dropUnauthenticatedForward(node: NodeSurface) {
  /** Proofs accepted lately, by nonce, with when: each is honoured once. */
  const used = new Map<string, number>();
  const genuine = (secret: string, from: string, req: Request, proof: string): boolean => {
    const m = /^(\d{1,15})\.([0-9a-f]{24})\.([0-9a-f]{64})$/.exec(proof);
    if (!m) return false;
    const [, msText, nonce, mac] = m;
    const ms = Number(msText);
    const now = Date.now();
    if (Math.abs(now - ms) > PROOF_MAX_AGE_MS) return false;
    const want = Buffer.from(proofMac(secret, from, req.method, req.originalUrl, ms, nonce), 'hex');
    if (!timingSafeEqual(want, Buffer.from(mac, 'hex'))) return false;
    // A proof accepted at time t may be valid until t + 2 windows (its own time may lead ours by one):
    // remember it that long. The map is in acceptance order, so the expired ones are at its start.
    for (const [n, t] of used) {
      if (now - t <= 2 * PROOF_MAX_AGE_MS) break;
      used.delete(n);
    }
    if (used.has(nonce) || used.size >= MAX_REMEMBERED_PROOFS) return false;
    used.set(nonce, now);
    return true;
  };
  return (req: Request, _res: Response, next: NextFunction) => {
    const from = req.headers[FORWARDED_BY];
    const proof = req.headers[FORWARD_PROOF];
    const secret = node.cfg.security?.secret ?? null;
    const ok =
      typeof from === 'string' && typeof proof === 'string' && secret !== null && genuine(secret, from, req, proof);
    if (!ok) delete req.headers[FORWARDED_BY];
    delete req.headers[FORWARD_PROOF];
    next();
  };
}

export function checkedKey(key: string | string[]): string {
  if (Array.isArray(key)) throw new ClientError(400, 'bad_key', 'one key per request');
  const problem = keyProblem(key);
  if (problem) throw new ClientError(problem.includes('longer') ? 414 : 400, 'bad_key', problem);
  return key;
}

export function bodyField(req: Request, name: string): unknown {
  const body = req.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ClientError(400, 'bad_request', `the body must be a JSON object with "${name}"`);
  if (!(name in body)) throw new ClientError(400, 'bad_request', `the body has no "${name}"`);
  return body[name];
}

/** Status codes for the errors the state machine itself reports. */
const SM_ERROR_STATUS: Record<string, number> = {
  fenced: 409,
  unknown_fencing_token: 409,
  idempotency_key_reused: 422,
};

/** Runs a write on the leader: here if this node leads, else by forwarding the request. The
 *  Idempotency-Key and X-Fencing-Token headers travel inside the command. */
export async function write(
  node: NodeSurface,
  req: Request,
  res: Response,
  cmd: KvCommand,
  shape: (r: KvResult) => object | false,
): Promise<void> {
  if (!node.isLeader()) return forward(node, req, res);
  const idem = req.header('idempotency-key');
  if (idem !== undefined) {
    if (!idem || Buffer.byteLength(idem) > LIMITS.tokenBytes)
      throw new ClientError(400, 'bad_idempotency_key', `Idempotency-Key must be 1 to ${LIMITS.tokenBytes} bytes`);
    cmd.idem = idem;
  }
  const fenceHeader = req.header('x-fencing-token');
  if (fenceHeader !== undefined) {
    const fence = parseFence(fenceHeader);
    if (!fence)
      throw new ClientError(400, 'bad_fencing_token', 'X-Fencing-Token must be "{lock}:{token}", e.g. "orders:7"');
    cmd.fence = fence;
  }
  const { result, index } = await node.propose(cmd);
  if (!result) throw new ClientError(500, 'internal', 'the write was applied without a result');
  if (result.index !== index) res.setHeader('Idempotent-Replayed', 'true');
  if (result.op === 'error') throw new ClientError(SM_ERROR_STATUS[result.code] ?? 400, result.code, result.message);
  const body = shape(result);
  if (!body) throw new ClientError(500, 'internal', `unexpected result ${result.op}`);
  res.json(body);
}

/** Sends the client's request on to the leader and relays its answer. */
export async function forward(node: NodeSurface, req: Request, res: Response): Promise<void> {
  const leader = node.leaderId();
  if (!leader) throw noLeader(node.cfg.id);
  if (req.headers[FORWARDED_BY]) {
    throw new ClientError(
      503,
      'not_leader',
      `${node.cfg.id} received a forwarded write but is not the leader (leader: ${leader}); retry`,
      { leader },
    );
  }
  const addr = node.address(leader);
  if (!addr) throw new ClientError(503, 'leader_unknown_address', `no HTTP address known for leader ${leader}`);
  let upstream: globalThis.Response;
  const url = `http://${addr.http}${req.originalUrl}`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [FORWARDED_BY]: node.cfg.id,
    ...(node.cfg.security?.secret
      ? { [FORWARD_PROOF]: forwardProof(node.cfg.security.secret, node.cfg.id, req.method, req.originalUrl) }
      : {}),
    'x-raft-cluster': node.cfg.clusterId,
    ...Object.fromEntries(FORWARDED_HEADERS.filter((h) => req.header(h) !== undefined).map((h) => [h, req.header(h)!])),
  };
  try {
    upstream = await withClientSpan(
      req.method,
      url,
      headers,
      () =>
        fetch(url, {
          method: req.method,
          headers,
          body: req.method === 'DELETE' ? undefined : JSON.stringify(req.body),
          signal: AbortSignal.timeout(node.cfg.requestTimeoutMs + 1000),
        }),
      (r) => r.status,
    );
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED') {
      throw new ClientError(
        503,
        'leader_unreachable',
        `leader ${leader} refused the connection; the write was not applied, retry`,
        { leader },
      );
    }
    throw new ClientError(
      504,
      'outcome_unknown',
      `lost contact with leader ${leader} while forwarding (${(e as Error).message}). The write may or may not have been applied`,
      { leader },
    );
  }
  res.status(upstream.status);
  for (const h of ['retry-after', 'x-raft-leader', 'x-trace-id', 'idempotent-replayed']) {
    const v = upstream.headers.get(h);
    if (v) res.setHeader(h, v);
  }
  res.setHeader('X-Raft-Forwarded-To', leader);
  res.type('application/json').send(await upstream.text());
}

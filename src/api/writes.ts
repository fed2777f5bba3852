// Running a write: on the leader directly, or forwarded to it from a follower, with the client's
// Idempotency-Key and X-Fencing-Token carried inside the command.
import type { IncomingHttpHeaders } from 'node:http';
import type { KvCommand, KvResult } from '../kv/commands.js';
import { keyProblem, keyTooLong, LIMITS, parseFence } from '../kv/commands.js';
import { ClientError, isErrorCode } from '../node/errors.js';
import type { NodeSurface } from '../node/surface.js';
import { forwardToLeader } from './forward.js';
import type { ApiRequest, ApiResponse } from './respond.js';

/** Headers that once marked a write forwarded over HTTP. Nodes now forward over gRPC
 *  (src/api/forward.ts), so these only ever come from clients: they are dropped, so that no client
 *  can make a span say a write was forwarded. */
const INTERNAL_HEADERS = ['x-raft-forwarded-by', 'x-raft-forward-proof'];

export function dropInternalHeaders(headers: IncomingHttpHeaders): void {
  for (const h of INTERNAL_HEADERS) delete headers[h];
}

/** Every answer names the node that gave it, and the leader it knows. */
export function nodeHeaders(node: NodeSurface, res: ApiResponse): void {
  res.setHeader('X-Raft-Node', node.cfg.id);
  const leader = node.leaderId();
  if (leader) res.setHeader('X-Raft-Leader', leader);
}

export function checkedKey(key: string | string[]): string {
  if (Array.isArray(key)) throw new ClientError('bad_key', 'one key per request');
  const problem = keyProblem(key);
  if (problem) throw new ClientError('bad_key', problem, {}, keyTooLong(key));
  return key;
}

export function bodyField(req: ApiRequest, name: string): unknown {
  const body = req.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ClientError('bad_request', `the body must be a JSON object with "${name}"`);
  if (!(name in body)) throw new ClientError('bad_request', `the body has no "${name}"`);
  return body[name];
}

/** Runs a write on the leader: here if this node leads, else by forwarding the command to the
 *  leader (src/api/forward.ts). The Idempotency-Key and X-Fencing-Token headers travel inside the
 *  command, checked here either way. */
export async function write(
  node: NodeSurface,
  req: ApiRequest,
  res: ApiResponse,
  cmd: KvCommand,
  shape: (r: KvResult) => object | false,
): Promise<void> {
  const idem = req.header('idempotency-key');
  if (idem !== undefined) {
    if (!idem || Buffer.byteLength(idem) > LIMITS.tokenBytes)
      throw new ClientError('bad_idempotency_key', `Idempotency-Key must be 1 to ${LIMITS.tokenBytes} bytes`);
    cmd.idem = idem;
  }
  const fenceHeader = req.header('x-fencing-token');
  if (fenceHeader !== undefined) {
    const fence = parseFence(fenceHeader);
    if (!fence) throw new ClientError('bad_fencing_token', 'X-Fencing-Token must be "{lock}:{token}", e.g. "orders:7"');
    cmd.fence = fence;
  }
  const { result, index } = node.isLeader()
    ? await node.propose(cmd, req.traceContext)
    : await forwardToLeader(node, cmd, req.traceContext, res);
  if (!result) throw new ClientError('internal', 'the write was applied without a result');
  if (result.index !== index) res.setHeader('Idempotent-Replayed', 'true');
  // The state machine's own codes are in the table; one it might add later is still the client's mistake.
  if (result.op === 'error')
    throw new ClientError(isErrorCode(result.code) ? result.code : 'bad_request', result.message);
  const body = shape(result);
  if (!body) throw new ClientError('internal', `unexpected result ${result.op}`);
  res.json(body);
}

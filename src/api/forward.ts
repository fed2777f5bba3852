// A write that reaches a follower goes to the leader over the peers' own gRPC channel, as etcd's
// followers forward proposals: the follower checks the HTTP request and builds the command (the
// client's Idempotency-Key and X-Fencing-Token inside), sends it as raft.Raft/Forward, and answers
// the client with what the leader's proposal gave. The call is authenticated like every peer call
// (cluster secret and/or mTLS, src/transport/peer-auth.ts), so no client can pass off a write as
// forwarded, and the leader never forwards again: a forwarded write reaching a node that no longer
// leads answers 503 not_leader. The hop is a CLIENT and a SERVER span (telemetry/forward-spans.ts).
import type { Context } from '@opentelemetry/api';
import type { Metadata } from '@grpc/grpc-js';
import { keyProblem, LIMITS, valueProblem, type KvCommand, type KvResult } from '../kv/commands.js';
import { ClientError, isErrorCode, noLeader, TOO_LONG_STATUS } from '../node/errors.js';
import type { Applied, NodeSurface } from '../node/surface.js';
import { forwardClientSpan, forwardServerSpan } from '../telemetry/forward-spans.js';
import { ForwardFailure } from '../transport/client.js';
import type { ForwardReply } from '../transport/generated/raft/ForwardReply.js';
import type { ApiResponse } from './respond.js';

/** The follower's side: forwards `cmd` to the leader and returns its result, or throws the
 *  ClientError the client must get. Sets X-Raft-Forwarded-To (and X-Raft-Leader as it learns).
 *  `traceContext` is the client's request's, the parent of the forward's CLIENT span. */
export async function forwardToLeader(
  node: NodeSurface,
  cmd: KvCommand,
  traceContext: Context | undefined,
  res: ApiResponse,
): Promise<Applied> {
  const leader = node.leaderId();
  if (!leader) throw noLeader(node.cfg.id);
  const address = node.address(leader)?.grpc;
  if (!address) throw new ClientError('leader_unknown_address', `no gRPC address known for leader ${leader}`);
  res.setHeader('X-Raft-Forwarded-To', leader);
  let reply;
  try {
    reply = await forwardClientSpan({ nodeId: node.cfg.id, leader, address }, traceContext, (md) =>
      node.forwardToLeader(leader, JSON.stringify(cmd), md, node.cfg.requestTimeoutMs + 1000),
    );
  } catch (e) {
    if (e instanceof ForwardFailure && !e.sent)
      throw new ClientError(
        'leader_unreachable',
        `leader ${leader} could not be reached (${e.message}); the write was not applied, retry`,
        { leader },
      );
    throw new ClientError(
      'outcome_unknown',
      `lost contact with leader ${leader} while forwarding (${(e as Error).message}). The write may or may not have been applied`,
      { leader },
    );
  }
  if (reply.errorStatus) {
    const extra = parseObject(reply.errorExtra);
    if (typeof extra.leader === 'string') res.setHeader('X-Raft-Leader', extra.leader);
    // The leader's code decides the status here too (its own status only says which variant).
    const code = reply.errorCode;
    if (!isErrorCode(code))
      throw new ClientError('internal', `leader ${leader} answered an unknown error ${code}: ${reply.errorMessage}`);
    throw new ClientError(code, reply.errorMessage, extra, reply.errorStatus === TOO_LONG_STATUS[code]);
  }
  return { result: JSON.parse(reply.result) as KvResult | null, index: reply.index };
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The leader's side: proposes a forwarded command and answers with its result or its error. */
export function serveForwards(node: NodeSurface): void {
  node.serveForwards((from: string, command: string, md: Metadata) =>
    forwardServerSpan(
      { nodeId: node.cfg.id, from },
      md,
      async (ctx): Promise<ForwardReply & { errorStatus: number; errorCode: string }> => {
        try {
          const { result, index } = await node.propose(checkedCommand(command), ctx);
          return { result: JSON.stringify(result), index, errorStatus: 0, errorCode: '' };
        } catch (e) {
          if (!(e instanceof ClientError)) throw e;
          return {
            errorStatus: e.status,
            errorCode: e.code,
            errorMessage: e.message,
            errorExtra: JSON.stringify(e.extra),
          };
        }
      },
    ),
  );
}

const str = (v: unknown, max: number) => typeof v === 'string' && Buffer.byteLength(v) <= max;
const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A forwarded command, checked as the HTTP API checks a client's write (the follower did; an
 *  authenticated peer is trusted with its identity, not with the shape of what it sends). */
export function checkedCommand(text: string): KvCommand {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ClientError('bad_request', 'the forwarded command is not JSON');
  }
  const c = (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as Record<string, unknown>;
  const bad = (why: string) => new ClientError('bad_request', `forwarded command: ${why}`);
  switch (c.op) {
    case 'put':
    case 'cas':
    case 'delete': {
      const problem = keyProblem(c.key) ?? (c.op === 'delete' ? null : valueProblem(c.value));
      if (problem) throw bad(problem);
      if (c.op === 'cas' && c.expected !== null && typeof c.expected !== 'string')
        throw bad('expected must be a string or null');
      break;
    }
    case 'lock_acquire':
    case 'lock_renew':
    case 'lock_release': {
      const problem = keyProblem(c.name);
      if (problem) throw bad(problem);
      if (!str(c.owner, LIMITS.tokenBytes)) throw bad('owner must be a string');
      if (c.op !== 'lock_release' && c.ttlMs !== undefined && !int(c.ttlMs)) throw bad('ttlMs must be an integer');
      if (c.op === 'lock_acquire' && !int(c.ttlMs)) throw bad('ttlMs must be an integer');
      if (c.op !== 'lock_acquire' && !int(c.token)) throw bad('token must be an integer');
      break;
    }
    default:
      throw bad(`op ${JSON.stringify(c.op)} cannot be forwarded`);
  }
  if (c.idem !== undefined && (!str(c.idem, LIMITS.tokenBytes) || c.idem === '')) throw bad('idem must be a string');
  if (c.fence !== undefined) {
    const f = c.fence as Record<string, unknown> | null;
    if (!f || typeof f !== 'object' || keyProblem(f.lock) || !int(f.token)) throw bad('fence must be {lock, token}');
  }
  return c as KvCommand;
}

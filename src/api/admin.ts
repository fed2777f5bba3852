// The /admin/ endpoints: fault injection, membership, leadership transfer, snapshots. Mounted only
// when the node runs with --admin; with --admin-token set, each request must carry
// "Authorization: Bearer <token>".
import { Router, type Request, type Response, type NextFunction } from 'express';
import type { Context } from '@opentelemetry/api';
import { chaosProblem, type ChaosSettings } from '../transport/chaos.js';
import { secretMatches } from '../transport/peer-auth.js';
import { ClientError, notLeader } from '../node/errors.js';
import type { NodeSurface } from '../node/surface.js';
import { handle, sendError } from './respond.js';

export function adminRouter(node: NodeSurface): Router {
  const r = Router();
  /** The membership change this node is running, if any. One at a time: two adds of one new id
   *  would both pass the checks before either committed, and the second would re-point the first's
   *  address. A second change is refused at once (409) rather than queued behind a 30 s catch-up. */
  let changing: string | null = null;
  const oneChangeAtATime = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    if (changing)
      throw new ClientError(
        'membership_change_in_progress',
        `${changing} is in progress on ${node.cfg.id}; nothing was changed, retry when it is done`,
      );
    changing = what;
    try {
      return await run();
    } finally {
      changing = null;
    }
  };
  r.use((req: Request, res: Response, next: NextFunction) => {
    const token = node.cfg.adminToken;
    // Constant time, as for the cluster secret: the comparison must not tell how much of a guess was right.
    if (token && !secretMatches(`Bearer ${token}`, req.headers.authorization ?? '')) {
      return sendError(
        res,
        new ClientError(
          'unauthorized',
          'this admin API needs "Authorization: Bearer <token>" (the node\'s --admin-token or --admin-token-file; under raft-otel up, <data-dir>/admin-token)',
        ),
      );
    }
    next();
  });

  r.get('/chaos', (_req, res) => {
    res.json(node.faults());
  });

  /** Body: any of dropRate, dropReplyRate, delayMs [min,max], cutOut [ids], cutIn [ids]. */
  r.post('/chaos', (req, res) => {
    const patch = req.body as Partial<ChaosSettings>;
    const problem = chaosProblem(patch ?? {});
    if (problem) return sendError(res, new ClientError('bad_chaos', problem));
    const { dropRate, dropReplyRate, delayMs, cutOut, cutIn } = patch;
    const settings = node.setChaos(
      Object.fromEntries(
        Object.entries({ dropRate, dropReplyRate, delayMs, cutOut, cutIn }).filter(([, v]) => v !== undefined),
      ),
    );
    res.json({ chaos: settings });
  });

  /** Body: slowFsyncMs (number), failWrites (boolean). */
  r.post('/disk', (req, res) => {
    const { slowFsyncMs, failWrites } = (req.body ?? {}) as { slowFsyncMs?: unknown; failWrites?: unknown };
    if (slowFsyncMs !== undefined && !(typeof slowFsyncMs === 'number' && slowFsyncMs >= 0 && slowFsyncMs <= 60_000)) {
      return sendError(res, new ClientError('bad_disk_fault', 'slowFsyncMs must be milliseconds between 0 and 60000'));
    }
    if (failWrites !== undefined && typeof failWrites !== 'boolean')
      return sendError(res, new ClientError('bad_disk_fault', 'failWrites must be true or false'));
    res.json({ disk: node.setDiskFaults({ slowFsyncMs, failWrites }) });
  });

  /** Adds a server: records its addresses, adds it as a learner, waits until it has caught up,
   *  then promotes it to voter (thesis §4.1). Body: {id, grpc: "host:port", http: "host:port"}. */
  r.post(
    '/members/add',
    handle(async (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const field = (k: string): string => {
        const v = body[k];
        if (typeof v !== 'string' || !v) throw new ClientError('bad_request', `"${k}" is required`);
        return v;
      };
      const id = field('id');
      const grpc = field('grpc');
      const http = field('http');
      if (!/^[^\s/:]+:\d+$/.test(grpc) || !/^[^\s/:]+:\d+$/.test(http)) {
        throw new ClientError('bad_request', 'grpc and http must be host:port');
      }
      if (!node.isLeader()) throw notLeader(node.cfg.id, node.leaderId());
      const added = await oneChangeAtATime(`adding ${id}`, () => addMember(id, grpc, http, req.traceContext));
      res.json(added);
    }),
  );

  const addMember = async (id: string, grpc: string, http: string, traceContext?: Context) => {
    // Validate everything before committing anything: the address registration is a committed
    // entry, and registering an existing member's id would re-point its peers at the new address.
    const refused = node.checkConfChange({ type: 'add_learner', node: id });
    if (refused)
      throw new ClientError('membership_change_refused', `${refused.reason}; nothing was changed`, {
        leader: refused.leader,
      });
    const { voters, learners } = node.members();
    for (const member of [...voters, ...learners]) {
      const a = node.address(member);
      if (a && (a.grpc === grpc || a.http === http))
        throw new ClientError(
          'address_in_use',
          `${member} already uses ${a.grpc === grpc ? `grpc ${grpc}` : `http ${http}`}; nothing was changed`,
        );
    }
    const steps: string[] = [];
    await node.propose({ op: 'register_member', id, grpc, http }, traceContext);
    steps.push(`registered ${id} at grpc ${grpc}, http ${http}`);
    await node.changeMembership({ type: 'add_learner', node: id });
    steps.push(`added ${id} as a learner`);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (node.caughtUp(id)) break;
      if (Date.now() > deadline)
        throw new ClientError(
          'learner_not_caught_up',
          `${id} did not catch up within 30 s; it stays a learner. Is it running?`,
          { steps },
        );
      await new Promise((r) => setTimeout(r, 50));
    }
    steps.push(`${id} caught up`);
    await node.changeMembership({ type: 'promote', node: id });
    steps.push(`promoted ${id} to voter`);
    return { members: node.members(), steps };
  };

  /** Removes a server. Body: {id}. A leader removing itself hands leadership over first. */
  r.post(
    '/members/remove',
    handle(async (req, res) => {
      const { id } = (req.body ?? {}) as Record<string, unknown>;
      if (typeof id !== 'string' || !id) throw new ClientError('bad_request', '"id" is required');
      if (!node.isLeader()) throw notLeader(node.cfg.id, node.leaderId());
      if (id === node.cfg.id) {
        const to = await node.transferLeadership();
        throw new ClientError(
          'leader_changed',
          `${node.cfg.id} handed leadership to ${to} first; send the removal to ${to}`,
          { leader: to },
        );
      }
      await oneChangeAtATime(`removing ${id}`, () => node.changeMembership({ type: 'remove', node: id }));
      res.json({ members: node.members() });
    }),
  );

  /** Body: {to?}. Without `to`, the most up-to-date voter takes over. */
  r.post(
    '/transfer-leadership',
    handle(async (req, res) => {
      const { to } = (req.body ?? {}) as { to?: unknown };
      if (to !== undefined && typeof to !== 'string') throw new ClientError('bad_request', '"to" must be a node id');
      const leader = await node.transferLeadership(to);
      res.json({ leader });
    }),
  );

  r.post('/snapshot', (_req, res) => {
    try {
      res.json(node.snapshotNow());
    } catch (e) {
      sendError(res, e as ClientError);
    }
  });
  return r;
}

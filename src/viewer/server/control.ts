// POST /api/viewer/control: the page's buttons, doing what the CLI does on the real processes,
// through the same code (localControl for processes, the partition/heal helpers, the admin API
// with the cluster's token, the node's own API for a write).
//
// Guarded against other web pages: any site a learner visits could otherwise make their browser
// post here (a "simple" cross-site POST needs no CORS consent). A request must carry
// `x-raft-viewer: 1` and `content-type: application/json` (both force a CORS preflight, which this
// server never approves), a Host naming loopback or the host the viewer is bound to (against DNS
// rebinding), and, when the browser sends an Origin, one whose host is that same Host.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPaused, isRunning, readCluster, findNode, type ClusterFile } from '../../cli/cluster-file.js';
import { checkIds, leaderNode, someNode } from '../../cli/common.js';
import { adminCall, apiError, call, type HttpResult } from '../../cli/http.js';
import { localControl } from '../../cli/local-control.js';
import { applyPartition, healAll, parseGroups } from '../../cli/partition.js';
import { HttpError, readBody, sendJson } from './http-util.js';

const ACTIONS = ['kill', 'restart', 'pause', 'resume', 'partition', 'heal', 'chaos', 'transfer', 'put'] as const;
type Action = (typeof ACTIONS)[number];

interface ControlBody {
  action: Action;
  node?: string;
  groups?: string[][];
  settings?: {
    dropRate?: number;
    dropReplyRate?: number;
    delayMs?: [number, number];
    slowFsyncMs?: number;
    failWrites?: boolean;
    off?: boolean;
  };
  to?: string;
  key?: string;
  value?: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostName(host: string): string {
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host.trim().toLowerCase());
  return m ? m[1] : '';
}

/** Refuses (403) a request a foreign page could have made. */
export function checkGuard(req: IncomingMessage, boundHost: string): void {
  if (req.headers['x-raft-viewer'] !== '1')
    throw new HttpError(403, 'forbidden', 'control requests need the header "x-raft-viewer: 1" (the page sends it)');
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (type !== 'application/json') throw new HttpError(403, 'forbidden', 'control requests must be application/json');
  const host = hostName(String(req.headers.host ?? ''));
  const bound = boundHost.toLowerCase();
  const allowed = LOOPBACK.has(host) || (host !== '' && (host === bound || host === `[${bound}]`));
  if (!allowed)
    throw new HttpError(403, 'forbidden', `Host "${req.headers.host ?? ''}" is not this viewer's (use its own URL)`);
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let originHost = '';
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      /* not a URL: refused below */
    }
    if (originHost !== String(req.headers.host ?? '').toLowerCase())
      throw new HttpError(403, 'forbidden', `requests from ${origin} may not control this cluster`);
  }
}

function parseBody(raw: Buffer): ControlBody {
  let b: unknown;
  try {
    b = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad_request', 'the body is not JSON');
  }
  const body = b as Partial<ControlBody> | null;
  if (!body || typeof body !== 'object' || !ACTIONS.includes(body.action as Action))
    throw new HttpError(400, 'bad_request', `"action" must be one of ${ACTIONS.join(', ')}`);
  return body as ControlBody;
}

function needNode(c: ClusterFile, body: ControlBody): string {
  if (typeof body.node !== 'string' || body.node === '')
    throw new HttpError(400, 'bad_request', `${body.action} needs "node"`);
  const problem = checkIds(c, [body.node]);
  if (problem) throw new HttpError(400, 'unknown_node', problem);
  return body.node;
}

function expectNodeOk(r: HttpResult, what: string): void {
  if (r.status < 400) return;
  const e = apiError(r.body);
  throw new HttpError(r.status, e?.code ?? 'node_error', `${what}: ${e?.message ?? `HTTP ${r.status}`}`);
}

async function chaos(c: ClusterFile, body: ControlBody): Promise<void> {
  const s = body.settings ?? {};
  if (typeof s !== 'object') throw new HttpError(400, 'bad_request', '"settings" must be an object');
  const net: Record<string, unknown> = {};
  const disk: Record<string, unknown> = {};
  if (s.off) {
    Object.assign(net, { dropRate: 0, dropReplyRate: 0, delayMs: [0, 0] });
    Object.assign(disk, { slowFsyncMs: 0, failWrites: false });
  }
  for (const k of ['dropRate', 'dropReplyRate', 'delayMs'] as const) if (s[k] !== undefined) net[k] = s[k];
  for (const k of ['slowFsyncMs', 'failWrites'] as const) if (s[k] !== undefined) disk[k] = s[k];
  if (!Object.keys(net).length && !Object.keys(disk).length)
    throw new HttpError(
      400,
      'bad_request',
      'chaos needs settings: dropRate, dropReplyRate, delayMs, slowFsyncMs, failWrites or off',
    );
  const targets = body.node ? [findNode(c, needNode(c, body))] : c.nodes.filter((n) => !n.removed && isRunning(n));
  // The node validates the values (400 bad_chaos with what is wrong), as for `raft-otel chaos`.
  for (const n of targets) {
    if (Object.keys(net).length) expectNodeOk(await adminCall(c, n, 'POST', '/admin/chaos', net), n.id);
    if (Object.keys(disk).length) expectNodeOk(await adminCall(c, n, 'POST', '/admin/disk', disk), n.id);
  }
}

/** Runs one action on the cluster in dataDir; returns what the answer adds to {ok: true}. */
export async function runControl(dataDir: string, body: ControlBody): Promise<{ traceId?: string; leader?: string }> {
  const c = readCluster(dataDir);
  const control = localControl(dataDir);
  switch (body.action) {
    case 'kill': {
      const id = needNode(c, body);
      if (!isRunning(findNode(c, id))) throw new HttpError(409, 'not_running', `${id} is not running`);
      await control.kill(id);
      return {};
    }
    case 'restart': {
      const id = needNode(c, body);
      if (isRunning(findNode(c, id))) throw new HttpError(409, 'running', `${id} is running; kill it first`);
      await control.restart(id);
      return {};
    }
    case 'pause':
    case 'resume': {
      const id = needNode(c, body);
      const n = findNode(c, id);
      if (!isRunning(n)) throw new HttpError(409, 'not_running', `${id} is not running`);
      if (body.action === 'pause' && isPaused(n.pid)) throw new HttpError(409, 'paused', `${id} is paused already`);
      if (body.action === 'pause') control.pause(id);
      else control.resume(id);
      return {};
    }
    case 'partition': {
      if (
        !Array.isArray(body.groups) ||
        !body.groups.every((g) => Array.isArray(g) && g.every((x) => typeof x === 'string'))
      )
        throw new HttpError(
          400,
          'bad_request',
          'partition needs "groups": lists of node ids, e.g. [["n1"],["n2","n3"]]',
        );
      const parsed = parseGroups(
        c,
        body.groups.map((g) => g.join(',')),
        false,
      );
      if ('problem' in parsed) throw new HttpError(400, 'bad_groups', parsed.problem);
      await applyPartition(c, parsed.groups, false);
      return {};
    }
    case 'heal':
      await healAll(c);
      return {};
    case 'chaos':
      await chaos(c, body);
      return {};
    case 'transfer': {
      if (body.to !== undefined) {
        const problem = typeof body.to === 'string' ? checkIds(c, [body.to]) : '"to" must be a node id';
        if (problem) throw new HttpError(400, 'unknown_node', problem);
      }
      const r = await adminCall(
        c,
        await leaderNode(c),
        'POST',
        '/admin/transfer-leadership',
        body.to ? { to: body.to } : {},
        10_000,
      );
      expectNodeOk(r, 'transfer');
      return { leader: (r.body as { leader: string }).leader };
    }
    case 'put': {
      if (typeof body.key !== 'string' || body.key === '') throw new HttpError(400, 'bad_request', 'put needs "key"');
      if (typeof body.value !== 'string') throw new HttpError(400, 'bad_request', 'put needs "value" (a string)');
      const node = await someNode(c, body.node);
      const r = await call(node, 'PUT', `/kv/${encodeURIComponent(body.key)}`, { value: body.value });
      expectNodeOk(r, `put ${body.key}`);
      const traceId = r.headers['x-trace-id'];
      return typeof traceId === 'string' ? { traceId } : {};
    }
  }
}

export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  dataDir: string | null,
  attached: boolean,
  boundHost: string,
  onDone: () => void,
): Promise<void> {
  checkGuard(req, boundHost);
  const body = parseBody(await readBody(req, 64 * 1024));
  if (!dataDir || !attached)
    throw new HttpError(
      409,
      'not_attached',
      'this viewer is not attached to a local cluster (start it with `npm start`, or `raft-otel viewer --data-dir` where one runs)',
    );
  try {
    const extra = await runControl(dataDir, body);
    sendJson(res, 200, { ok: true, ...extra });
  } catch (e) {
    if (e instanceof HttpError) throw e;
    // The CLI helpers throw messages written for a person: pass them on.
    throw new HttpError(502, 'control_failed', (e as Error).message);
  } finally {
    onDone();
  }
}

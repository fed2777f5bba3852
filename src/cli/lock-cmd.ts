// `raft-otel lock`: acquire, renew, release or look at a leased lock with fencing tokens.
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR } from './cluster-file.js';
import { CLUSTER_OPTIONS, checkIds, help, openCluster } from './common.js';
import { apiError, call, type HttpResult } from './http.js';

/** The owner when --owner is not given: the same for every command this user runs on this
 *  machine, so a later renew or release without --owner names the same holder. */
export function defaultOwner(): string {
  let user = 'user';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry (a container): keep the placeholder */
  }
  return `${user}@${hostname()}`;
}

export const lockHelp = `raft-otel lock acquire NAME [--owner O] [--ttl-ms 10000]
raft-otel lock renew NAME --token T [--owner O] [--ttl-ms N]
raft-otel lock release NAME --token T [--owner O]
raft-otel lock show NAME

A lock is held by one owner at a time for a lease (ttl); the lease expires by the time the leader
writes into the log, the same on every node. Each acquisition returns a fencing token that
strictly increases per lock: send it with writes as \`X-Fencing-Token: NAME:T\` (or
\`raft-otel kv put K V --fencing-token NAME:T\`), and a write with an older token than the newest
one issued is refused with 409.

Options: --owner O (default ${defaultOwner()}: you on this machine), --node ID (default: the
first node; followers forward), --json, --data-dir DIR
${CLUSTER_OPTIONS}`;

interface LockBody {
  token?: number;
  expiresAt?: number;
  held?: boolean;
  owner?: string;
  highestToken?: number;
}

/** Log time is the leader's clock in epoch milliseconds: shown as a time of day, and how far off. */
export function humanLogTime(ms: number, now = Date.now()): string {
  const s = (ms - now) / 1000;
  const rel = Math.abs(s) < 0.05 ? 'now' : s > 0 ? `in ${s.toFixed(1)} s` : `${(-s).toFixed(1)} s ago`;
  return `${new Date(ms).toLocaleTimeString()} (${rel})`;
}

const ACTIONS = ['acquire', 'renew', 'release', 'show'];

export async function lockCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      owner: { type: 'string' },
      token: { type: 'string' },
      'ttl-ms': { type: 'string' },
      node: { type: 'string' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      compose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return help(lockHelp);
  const [action, name, ...extra] = positionals;
  if (!action) return help(lockHelp, 'which action? acquire, renew, release or show');
  if (!ACTIONS.includes(action)) return help(lockHelp, `unknown action "${action}"; use ${ACTIONS.join(', ')}`);
  if (!name) return help(lockHelp, `lock ${action} needs the lock's name`);
  if (extra.length) return help(lockHelp, `unexpected argument(s): ${extra.join(' ')}`);
  if ((action === 'renew' || action === 'release') && values.token === undefined)
    return help(lockHelp, `lock ${action} needs --token T, the fencing token acquire returned`);
  const token = values.token === undefined ? undefined : Number(values.token);
  if (token !== undefined && !Number.isSafeInteger(token))
    return help(lockHelp, `--token must be a whole number, not "${values.token}"`);
  const ttlMs = values['ttl-ms'] === undefined ? undefined : Number(values['ttl-ms']);
  if (ttlMs !== undefined && !(ttlMs > 0))
    return help(lockHelp, `--ttl-ms must be milliseconds > 0, not "${values['ttl-ms']}"`);
  const c = openCluster(values);
  if (values.node) {
    const problem = checkIds(c, [values.node]);
    if (problem) return help(lockHelp, problem);
  }
  const node = c.nodes.find((n) => n.id === (values.node ?? c.nodes.find((x) => !x.removed)?.id));
  if (!node) throw new Error('the cluster has no nodes');
  const owner = values.owner ?? defaultOwner();
  const path = `/locks/${encodeURIComponent(name)}`;
  let r: HttpResult;
  if (action === 'show') r = await call(node, 'GET', path);
  else if (action === 'acquire') r = await call(node, 'POST', `${path}/acquire`, { owner, ttlMs: ttlMs ?? 10_000 });
  else r = await call(node, 'POST', `${path}/${action}`, { owner, token, ...(ttlMs ? { ttlMs } : {}) });
  const b = r.body as LockBody;
  const err = apiError(r.body);
  if (values.json) console.log(JSON.stringify(r.body, null, 2));
  else if (r.status >= 400)
    console.log(
      `error ${r.status} ${err?.code ?? ''}: ${(err?.message ?? String(r.body)).replace(/log time (\d{12,})/g, (_, ms: string) => `log time ${humanLogTime(Number(ms))}`)}`,
    );
  else if (action === 'acquire')
    console.log(
      `acquired "${name}" as ${owner} with fencing token ${b.token}, until ${humanLogTime(b.expiresAt!)}; write with: --fencing-token ${name}:${b.token}`,
    );
  else if (action === 'show')
    console.log(
      b.held
        ? `"${name}" is held by ${b.owner} with token ${b.token} (newest token ${b.highestToken})`
        : `"${name}" is free (newest token ${b.highestToken})`,
    );
  else console.log(`${action === 'renew' ? 'renewed' : 'released'} "${name}"`);
  return r.status < 400 ? 0 : 1;
}

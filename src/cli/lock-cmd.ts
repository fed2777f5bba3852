// `raft-otel lock`: acquire, renew, release or look at a leased lock with fencing tokens.
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR, findNode, readCluster } from './cluster-file.js';
import { call } from './http.js';

export const lockHelp = `raft-otel lock acquire NAME --owner O [--ttl-ms 10000]
raft-otel lock renew NAME --owner O --token T [--ttl-ms N]
raft-otel lock release NAME --owner O --token T
raft-otel lock show NAME

A lock is held by one owner at a time for a lease (ttl); the lease expires by the time the leader
writes into the log, the same on every node. Each acquisition returns a fencing token that
strictly increases per lock: send it with writes as \`X-Fencing-Token: NAME:T\` (or
\`raft-otel kv put K V --fencing-token NAME:T\`), and a write with an older token than the newest
one issued is refused with 409.

Options: --node ID (default n1; followers forward), --json, --data-dir DIR
`;

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
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [action, name] = positionals;
  if (values.help || !action || !name) {
    (values.help ? process.stdout : process.stderr).write(lockHelp);
    return values.help ? 0 : 2;
  }
  const c = readCluster(values['data-dir']!);
  const node = findNode(c, values.node ?? c.nodes.find((n) => !n.removed)!.id);
  const path = `/locks/${encodeURIComponent(name)}`;
  const body: Record<string, unknown> = { owner: values.owner };
  if (values.token) body.token = Number(values.token);
  if (values['ttl-ms']) body.ttlMs = Number(values['ttl-ms']);
  let r;
  switch (action) {
    case 'acquire':
      r = await call(node, 'POST', `${path}/acquire`, { ...body, ttlMs: body.ttlMs ?? 10_000 });
      break;
    case 'renew':
    case 'release':
      r = await call(node, 'POST', `${path}/${action}`, body);
      break;
    case 'show':
      r = await call(node, 'GET', path);
      break;
    default:
      process.stderr.write(lockHelp);
      return 2;
  }
  const b = r.body;
  if (values.json) console.log(JSON.stringify(b, null, 2));
  else if (r.status >= 400) console.log(`error ${r.status} ${b.error.code}: ${b.error.message}`);
  else if (action === 'acquire')
    console.log(`acquired "${name}" with fencing token ${b.token}; write with: --fencing-token ${name}:${b.token}`);
  else if (action === 'show')
    console.log(
      b.held
        ? `"${name}" is held by ${b.owner} with token ${b.token} (newest token ${b.highestToken})`
        : `"${name}" is free (newest token ${b.highestToken})`,
    );
  else console.log(`${action === 'renew' ? 'renewed' : 'released'} "${name}"`);
  return r.status < 400 ? 0 : 1;
}

// `raft-otel members [add ID | remove ID]`: single-server membership changes on the local cluster.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatPeers, splitHostPort } from '../node/config.js';
import { findNode, isRunning, liveNodes, readCluster, saveNode, type NodeEntry } from './cluster-file.js';
import { common, help, leaderNode, out, someNode } from './common.js';
import { adminCall, apiError, expectOk, tryStatus } from './http.js';
import { firstBusyPort } from './ports.js';
import { spawnNode, waitServing } from './spawn.js';
import { nodeArgs } from './up.js';

export const membersHelp = `raft-otel members add ID
raft-otel members remove ID
raft-otel members            (list)

add: starts a new node ID on the next free ports as a learner, waits until it serves, lets it
catch up, then promotes it to voter (one change at a time, thesis 4.1). A server that lost its
disk must come back under a NEW id: under its old id it could vote twice in a term it forgot.
remove: removes ID from the cluster and stops its process.
`;

interface MembersBody {
  steps: string[];
  members: { voters: string[]; learners: string[] };
}

export async function membersCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: common });
  const v = values;
  if (v.help) return help(membersHelp);
  const [op, id, ...extra] = positionals;
  if (op && !['add', 'remove'].includes(op)) return help(membersHelp, `unknown operation "${op}"; use add or remove`);
  if (op && !id) return help(membersHelp, `members ${op} needs the node's id`);
  if (extra.length) return help(membersHelp, `members ${op} takes one id, got ${positionals.length - 1}`);
  const c = readCluster(v['data-dir']);
  if (!op) {
    const st = await tryStatus(await someNode(c));
    if (!st) throw new Error('no node of the cluster answers');
    out(
      v.json,
      st.members,
      `voters: ${st.members.voters.join(', ')}\nlearners: ${st.members.learners.join(', ') || '-'}`,
    );
    return 0;
  }
  if (op === 'add') {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id))
      return help(membersHelp, `"${id}" is not an id: use letters, digits, - or _`);
    if (c.nodes.some((n) => n.id === id))
      throw new Error(`${id} was a member of this cluster already; a returning server needs a new id`);
    const port = (addr: string) => splitHostPort(addr).port;
    const httpPort = Math.max(...c.nodes.map((n) => port(n.http))) + 1;
    const grpcPort = Math.max(...c.nodes.map((n) => port(n.grpc))) + 1;
    const busy = await firstBusyPort([
      { host: '127.0.0.1', port: httpPort, what: `${id}'s HTTP API` },
      { host: '127.0.0.1', port: grpcPort, what: `${id}'s gRPC` },
    ]);
    if (busy)
      throw new Error(
        `port ${busy.port} (${busy.what}) is in use by ${busy.holder ?? 'a process that cannot be identified (another user?)'}; stop it and retry`,
      );
    const dataDir = join(c.dataDir, id);
    const entry: NodeEntry = {
      id,
      http: `127.0.0.1:${httpPort}`,
      grpc: `127.0.0.1:${grpcPort}`,
      pid: 0,
      dataDir,
      logFile: join(dataDir, 'node.log'),
      args: [],
    };
    entry.args = nodeArgs(entry, formatPeers([...liveNodes(c), entry]), c.clusterId, true);
    const started = spawnNode(c, entry, true);
    c.nodes.push(entry);
    saveNode(c, entry);
    await waitServing(entry, started);
    const r = await adminCall(
      c,
      await leaderNode(c),
      'POST',
      '/admin/members/add',
      { id, grpc: entry.grpc, http: entry.http },
      60_000,
    );
    expectOk(r);
    const b = r.body as MembersBody;
    out(v.json, b, `${b.steps.join('\n')}\nvoters now: ${b.members.voters.join(', ')}`);
    return 0;
  }
  const n = findNode(c, id);
  let leader = await leaderNode(c);
  let r = await adminCall(c, leader, 'POST', '/admin/members/remove', { id }, 30_000);
  const err = apiError(r.body);
  if (r.status === 409 && err?.code === 'leader_changed' && typeof err.leader === 'string') {
    leader = findNode(c, err.leader);
    r = await adminCall(c, leader, 'POST', '/admin/members/remove', { id }, 30_000);
  }
  expectOk(r);
  if (isRunning(n)) process.kill(n.pid, 'SIGTERM');
  n.removed = true;
  saveNode(c, n);
  out(v.json, r.body, `removed ${id}; voters now: ${(r.body as MembersBody).members.voters.join(', ')}`);
  return 0;
}

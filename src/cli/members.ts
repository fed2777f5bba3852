// `raft-otel members [add ID | remove ID]`: single-server membership changes on the local cluster
// or (--compose) on the compose stack.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatPeers, splitHostPort } from '../node/config.js';
import { findNode, isRunning, liveNodes, saveNode, type ClusterFile, type NodeEntry } from './cluster-file.js';
import { CLUSTER_OPTIONS, common, help, leaderNode, openCluster, out, someNode } from './common.js';
import { composeNode, containerUp, dockerCompose, waitComposeServing } from './compose.js';
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
remove: removes ID from the cluster and stops its process (--compose: removes its container).

With --compose, the new node is a service of the compose files whose RAFT_ID is ID: \`members add n4
--compose\` runs \`docker compose --profile replace up -d raft-4\` (docker-compose.yml's spare server),
then adds it through the leader's admin API; \`remove\` ends with \`docker compose rm -s -f\` (its
volume stays), so the commands no longer count it.
${CLUSTER_OPTIONS}`;

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
  const c = openCluster(v);
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
    if (c.compose) return composeAdd(c, id, v.json);
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
    return addThroughLeader(c, { id, grpc: entry.grpc, http: entry.http }, v.json);
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
  if (c.compose) {
    const s = composeNode(c, id);
    if (s.state !== null) dockerCompose(['rm', '-s', '-f', s.service]);
  } else {
    if (isRunning(n)) process.kill(n.pid, 'SIGTERM');
    n.removed = true;
    saveNode(c, n);
  }
  out(v.json, r.body, `removed ${id}; voters now: ${(r.body as MembersBody).members.voters.join(', ')}`);
  return 0;
}

/** The leader adds the serving node as a learner, lets it catch up and promotes it. */
async function addThroughLeader(
  c: ClusterFile,
  member: { id: string; grpc: string; http: string },
  json: boolean,
): Promise<number> {
  const r = await adminCall(c, await leaderNode(c), 'POST', '/admin/members/add', member, 60_000);
  expectOk(r);
  const b = r.body as MembersBody;
  out(json, b, `${b.steps.join('\n')}\nvoters now: ${b.members.voters.join(', ')}`);
  return 0;
}

/** A compose service becomes a member: its container started (with its profile), then added. The
 *  peers learn its address on the compose network (raft-4:7000), not its published port. */
async function composeAdd(c: ClusterFile, id: string, json: boolean): Promise<number> {
  const s = composeNode(c, id);
  const st = await tryStatus(await someNode(c));
  if (st && [...st.members.voters, ...st.members.learners].includes(id))
    throw new Error(`${id} is a member already (voters ${st.members.voters.join(', ')})`);
  if (!containerUp(s)) dockerCompose([...s.profiles.flatMap((p) => ['--profile', p]), 'up', '-d', s.service]);
  await waitComposeServing(c, id);
  return addThroughLeader(c, { id, grpc: s.grpc, http: s.http }, json);
}

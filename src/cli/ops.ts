// The commands that look at or act on a running local cluster, found through cluster.json:
// status, kv, kill/restart/pause/resume, partition/heal, chaos, members, transfer-leadership, down.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { formatPeers } from '../node/config.js';
import { parseDelay } from '../transport/chaos.js';
import {
  DEFAULT_DATA_DIR,
  findNode,
  isAlive,
  liveNodes,
  readCluster,
  writeCluster,
  type ClusterFile,
  type NodeEntry,
} from './cluster-file.js';
import { call, tryStatus } from './http.js';
import { spawnNode } from './spawn.js';
import { nodeArgs } from './up.js';

const common = {
  'data-dir': { type: 'string' as const, default: DEFAULT_DATA_DIR },
  json: { type: 'boolean' as const, default: false },
  help: { type: 'boolean' as const, short: 'h' },
};

type Values = { 'data-dir'?: string; json?: boolean; help?: boolean; [k: string]: string | boolean | undefined };

function out(json: boolean | undefined, data: unknown, human: string): void {
  console.log(json ? JSON.stringify(data, null, 2) : human);
}

/** A node that answers, preferring the leader. */
async function someNode(c: ClusterFile, prefer?: string): Promise<NodeEntry> {
  if (prefer) return findNode(c, prefer);
  let any: NodeEntry | null = null;
  for (const n of liveNodes(c)) {
    const st = await tryStatus(n, 500);
    if (!st) continue;
    if (st.role === 'leader') return n;
    any ??= n;
    if (st.leader) {
      const leader = c.nodes.find((x) => x.id === st.leader);
      if (leader) return leader;
    }
  }
  if (!any) throw new Error('no node of the cluster answers. Is it running? Start it with `npm start`');
  return any;
}

async function leaderNode(c: ClusterFile): Promise<NodeEntry> {
  const n = await someNode(c);
  const st = await tryStatus(n);
  if (st?.role !== 'leader')
    throw new Error('the cluster has no leader right now; wait a moment (an election takes about a second) and retry');
  return n;
}

// ---------------------------------------------------------------------------------------------

export const statusHelp = `raft-otel status [--watch] [--json] [--data-dir DIR]

A table of every node: role, term, leader, commit and applied index, last log index.
--watch redraws it every second until Ctrl-C.
`;

export async function statusCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...common, watch: { type: 'boolean', short: 'w' } } }) as {
    values: Values;
  };
  if (values.help) return help(statusHelp);
  const draw = async () => {
    const c = readCluster(values['data-dir']!);
    const rows = await Promise.all(liveNodes(c).map(async (n) => ({ node: n, st: await tryStatus(n, 800) })));
    if (values.json)
      return out(
        true,
        rows.map((r) => ({ id: r.node.id, pid: r.node.pid, alive: isAlive(r.node.pid), status: r.st })),
        '',
      );
    const lines = ['  node  pid      state      role        term  leader  commit  applied  lastLog'];
    for (const { node, st } of rows) {
      const state = !isAlive(node.pid) ? 'down' : st ? 'up' : 'no answer';
      lines.push(
        `  ${node.id.padEnd(5)} ${String(node.pid).padEnd(8)} ${state.padEnd(10)} ${(st?.role ?? '-').padEnd(11)} ${String(st?.term ?? '-').padEnd(5)} ` +
          `${String(st?.leader ?? '-').padEnd(7)} ${String(st?.commitIndex ?? '-').padEnd(7)} ${String(st?.lastApplied ?? '-').padEnd(8)} ${st?.lastLogIndex ?? '-'}`,
      );
    }
    console.log(lines.join('\n'));
  };
  if (!values.watch) {
    await draw();
    return 0;
  }
  for (;;) {
    process.stdout.write('\x1b[2J\x1b[H');
    console.log(`raft-otel status (every second, Ctrl-C to stop)  ${new Date().toLocaleTimeString()}\n`);
    await draw();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ---------------------------------------------------------------------------------------------

export const kvHelp = `raft-otel kv get KEY [--consistency linearizable|lease|stale] [--max-staleness-ms N]
raft-otel kv put KEY VALUE
raft-otel kv del KEY
raft-otel kv cas KEY EXPECTED NEW      (EXPECTED "-" means "absent")

Options: --node ID (send to this node; default: the leader), --json, --data-dir DIR,
  --fencing-token LOCK:T (refused with 409 if a newer holder of LOCK exists),
  --idempotency-key K (a retry with the same key is applied once and gets the first answer)
`;

export async function kvCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...common,
      node: { type: 'string' },
      consistency: { type: 'string' },
      'max-staleness-ms': { type: 'string' },
      'fencing-token': { type: 'string' },
      'idempotency-key': { type: 'string' },
    },
  }) as { values: Values; positionals: string[] };
  if (values.help || positionals.length < 2) return help(kvHelp, !values.help);
  const [op, key, ...rest] = positionals;
  const c = readCluster(values['data-dir']!);
  const node = await someNode(c, values.node as string | undefined);
  const path = `/kv/${encodeURIComponent(key)}`;
  const headers: Record<string, string> = {};
  if (values['fencing-token']) headers['x-fencing-token'] = values['fencing-token'] as string;
  if (values['idempotency-key']) headers['idempotency-key'] = values['idempotency-key'] as string;
  let r;
  switch (op) {
    case 'get': {
      const q = new URLSearchParams();
      if (values.consistency) q.set('consistency', values.consistency as string);
      if (values['max-staleness-ms']) q.set('maxStalenessMs', values['max-staleness-ms'] as string);
      r = await call(node, 'GET', `${path}${q.size ? `?${q}` : ''}`);
      break;
    }
    case 'put':
      if (rest.length !== 1) return help(kvHelp, true);
      r = await call(node, 'PUT', path, { value: rest[0] }, 5000, headers);
      break;
    case 'del':
      r = await call(node, 'DELETE', path, undefined, 5000, headers);
      break;
    case 'cas':
      if (rest.length !== 2) return help(kvHelp, true);
      r = await call(
        node,
        'POST',
        `${path}/cas`,
        { expected: rest[0] === '-' ? null : rest[0], value: rest[1] },
        5000,
        headers,
      );
      break;
    default:
      return help(kvHelp, true);
  }
  const b = r.body;
  const human =
    r.status >= 400 && b?.error
      ? `error ${r.status} ${b.error.code}: ${b.error.message}`
      : op === 'get'
        ? `${b.value}    (index ${b.index}, from ${node.id})`
        : op === 'cas'
          ? b.swapped
            ? `swapped at index ${b.index}`
            : `not swapped: current value is ${JSON.stringify(b.current)}`
          : `ok, index ${b.index}`;
  out(values.json, { status: r.status, ...b }, human);
  return r.status < 400 || (op === 'cas' && r.status === 412) ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------

export const procHelp = `raft-otel kill|restart|pause|resume NODE [--data-dir DIR]

  kill     SIGKILL of the node's process (a crash: nothing is flushed)
  restart  start a stopped node again, with its data
  pause    SIGSTOP: the process freezes (a long GC pause, a stuck VM)
  resume   SIGCONT: it carries on, unaware that time passed
`;

export async function procCommand(action: 'kill' | 'restart' | 'pause' | 'resume', argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: common }) as {
    values: Values;
    positionals: string[];
  };
  if (values.help || positionals.length !== 1) return help(procHelp, !values.help);
  const c = readCluster(values['data-dir']!);
  const n = findNode(c, positionals[0]);
  const alive = isAlive(n.pid);
  switch (action) {
    case 'kill':
      if (!alive) throw new Error(`${n.id} is not running`);
      process.kill(n.pid, 'SIGKILL');
      out(values.json, { killed: n.id, pid: n.pid }, `killed ${n.id} (pid ${n.pid}) with SIGKILL`);
      return 0;
    case 'pause':
    case 'resume':
      if (!alive) throw new Error(`${n.id} is not running; \`raft-otel restart ${n.id}\` starts it`);
      process.kill(n.pid, action === 'pause' ? 'SIGSTOP' : 'SIGCONT');
      out(
        values.json,
        { [action === 'pause' ? 'paused' : 'resumed']: n.id },
        `${action === 'pause' ? 'paused' : 'resumed'} ${n.id} (pid ${n.pid})`,
      );
      return 0;
    case 'restart': {
      if (alive) throw new Error(`${n.id} is still running (pid ${n.pid}); \`raft-otel kill ${n.id}\` first`);
      const child = spawnNode(n, c.env, true);
      n.pid = child.pid ?? 0;
      writeCluster(c);
      out(values.json, { restarted: n.id, pid: n.pid }, `restarted ${n.id} (pid ${n.pid}); log: ${n.logFile}`);
      return 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------

export const partitionHelp = `raft-otel partition GROUP GROUP... [--one-way]
raft-otel heal

Splits the cluster: nodes in different groups cannot reach each other. Groups are comma-separated
ids, e.g. \`raft-otel partition n1 n2,n3\` isolates n1. With --one-way and two groups, only
messages from the first group to the second are cut. \`heal\` removes every cut.
`;

export async function partitionCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...common, 'one-way': { type: 'boolean' } },
  }) as {
    values: Values;
    positionals: string[];
  };
  if (values.help || positionals.length < 2) return help(partitionHelp, !values.help);
  const c = readCluster(values['data-dir']!);
  const groups = positionals.map((g) => g.split(',').filter(Boolean));
  for (const id of groups.flat()) findNode(c, id);
  const all = liveNodes(c).map((n) => n.id);
  const listed = new Set(groups.flat());
  const rest = all.filter((id) => !listed.has(id));
  if (rest.length) groups[groups.length - 1].push(...rest); // unlisted nodes join the last group
  const groupOf = (id: string) => groups.findIndex((g) => g.includes(id));
  for (const id of all) {
    const others = all.filter((o) => groupOf(o) !== groupOf(id));
    let cutOut = others;
    let cutIn = others;
    if (values['one-way']) {
      cutOut = groupOf(id) === 0 ? groups[1] : [];
      cutIn = groupOf(id) === 1 ? groups[0] : [];
    }
    await call(findNode(c, id), 'POST', '/admin/chaos', { cutOut, cutIn });
  }
  out(
    values.json,
    { groups },
    `partitioned: ${groups.map((g) => `{${g.join(',')}}`).join(values['one-way'] ? ' -> ' : ' | ')}`,
  );
  return 0;
}

export async function healCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: common }) as { values: Values };
  if (values.help) return help(partitionHelp);
  const c = readCluster(values['data-dir']!);
  for (const n of liveNodes(c)) await call(n, 'POST', '/admin/chaos', { cutOut: [], cutIn: [] });
  out(values.json, { healed: true }, 'healed: every link is back');
  return 0;
}

// ---------------------------------------------------------------------------------------------

export const chaosHelp = `raft-otel chaos [--drop R] [--drop-reply R] [--delay MIN-MAX] [--slow-fsync MS] [--fail-writes true|false] [--node ID] [--off]

Injects faults between nodes (on every node, or only --node ID):
  --drop R          drop a fraction R (0..1) of outgoing requests
  --drop-reply R    drop a fraction R of replies after the request was handled
  --delay MIN-MAX   add MIN..MAX ms of latency to each request (or one number)
  --slow-fsync MS   make every fsync take MS ms longer
  --fail-writes B   make every disk write fail (the node stops: it cannot promise durability)
  --off             remove all network and disk faults (partitions stay: use \`heal\`)
Without options it shows the current faults.
`;

export async function chaosCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...common,
      drop: { type: 'string' },
      'drop-reply': { type: 'string' },
      delay: { type: 'string' },
      'slow-fsync': { type: 'string' },
      'fail-writes': { type: 'string' },
      node: { type: 'string' },
      off: { type: 'boolean' },
    },
  }) as { values: Values };
  if (values.help) return help(chaosHelp);
  const c = readCluster(values['data-dir']!);
  const targets = values.node ? [findNode(c, values.node as string)] : liveNodes(c);
  const net: Record<string, unknown> = {};
  const disk: Record<string, unknown> = {};
  if (values.off)
    (Object.assign(net, { dropRate: 0, dropReplyRate: 0, delayMs: [0, 0] }),
      Object.assign(disk, { slowFsyncMs: 0, failWrites: false }));
  if (values.drop !== undefined) net.dropRate = Number(values.drop);
  if (values['drop-reply'] !== undefined) net.dropReplyRate = Number(values['drop-reply']);
  if (values.delay !== undefined) net.delayMs = parseDelay(values.delay as string);
  if (values['slow-fsync'] !== undefined) disk.slowFsyncMs = Number(values['slow-fsync']);
  if (values['fail-writes'] !== undefined) disk.failWrites = values['fail-writes'] === 'true';
  const results: Record<string, unknown> = {};
  for (const n of targets) {
    if (Object.keys(net).length) await expectOk(await call(n, 'POST', '/admin/chaos', net));
    if (Object.keys(disk).length) await expectOk(await call(n, 'POST', '/admin/disk', disk));
    results[n.id] = (await call(n, 'GET', '/admin/chaos')).body;
  }
  const human = Object.entries(results)
    .map(([id, r]: [string, any]) => {
      const ch = r.chaos;
      return `  ${id}: drop ${ch.dropRate}, drop-reply ${ch.dropReplyRate}, delay ${ch.delayMs[0]}-${ch.delayMs[1]} ms, cut to [${ch.cutOut}] from [${ch.cutIn}], slow fsync ${r.disk.slowFsyncMs} ms, failing writes ${r.disk.failWrites}`;
    })
    .join('\n');
  out(values.json, results, human);
  return 0;
}

// ---------------------------------------------------------------------------------------------

export const membersHelp = `raft-otel members add ID
raft-otel members remove ID
raft-otel members            (list)

add: starts a new node ID on the next free ports as a learner, lets it catch up, then promotes it
to voter (one change at a time, thesis 4.1). A server that lost its disk must come back under a
NEW id: under its old id it could vote twice in a term it forgot.
remove: removes ID from the cluster and stops its process.
`;

export async function membersCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: common }) as {
    values: Values;
    positionals: string[];
  };
  if (values.help) return help(membersHelp);
  const c = readCluster(values['data-dir']!);
  const [op, id] = positionals;
  if (!op) {
    const st = await tryStatus(await someNode(c));
    out(
      values.json,
      st?.members,
      `voters: ${st?.members.voters.join(', ')}\nlearners: ${st?.members.learners.join(', ') || '-'}`,
    );
    return 0;
  }
  if (!id || !['add', 'remove'].includes(op)) return help(membersHelp, true);
  if (op === 'add') {
    if (c.nodes.some((n) => n.id === id))
      throw new Error(`${id} was a member of this cluster already; a returning server needs a new id`);
    const port = (addr: string) => Number(addr.split(':')[1]);
    const http = `127.0.0.1:${Math.max(...c.nodes.map((n) => port(n.http))) + 1}`;
    const grpc = `127.0.0.1:${Math.max(...c.nodes.map((n) => port(n.grpc))) + 1}`;
    const dataDir = join(c.dataDir, id);
    const entry: NodeEntry = { id, http, grpc, pid: 0, dataDir, logFile: join(dataDir, 'node.log'), args: [] };
    entry.args = nodeArgs(entry, formatPeers([...liveNodes(c), entry]), c.clusterId, true);
    entry.pid = spawnNode(entry, c.env, true).pid ?? 0;
    c.nodes.push(entry);
    writeCluster(c);
    const r = await call(await leaderNode(c), 'POST', '/admin/members/add', { id, grpc, http }, 60_000);
    await expectOk(r);
    out(values.json, r.body, `${r.body.steps.join('\n')}\nvoters now: ${r.body.members.voters.join(', ')}`);
    return 0;
  }
  let leader = await leaderNode(c);
  let r = await call(leader, 'POST', '/admin/members/remove', { id }, 30_000);
  if (r.status === 409 && r.body?.error?.code === 'leader_changed') {
    leader = findNode(c, r.body.error.leader);
    r = await call(leader, 'POST', '/admin/members/remove', { id }, 30_000);
  }
  await expectOk(r);
  const n = findNode(c, id);
  if (isAlive(n.pid)) process.kill(n.pid, 'SIGTERM');
  n.removed = true;
  writeCluster(c);
  out(values.json, r.body, `removed ${id}; voters now: ${r.body.members.voters.join(', ')}`);
  return 0;
}

// ---------------------------------------------------------------------------------------------

export const transferHelp = `raft-otel transfer-leadership [--to ID]

Hands leadership over (thesis 3.10): the leader brings the target up to date, then tells it to
start an election at once. Without --to, the most up-to-date follower takes over.
`;

export async function transferCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...common, to: { type: 'string' } } }) as { values: Values };
  if (values.help) return help(transferHelp);
  const c = readCluster(values['data-dir']!);
  const r = await call(
    await leaderNode(c),
    'POST',
    '/admin/transfer-leadership',
    values.to ? { to: values.to } : {},
    10_000,
  );
  await expectOk(r);
  out(values.json, r.body, `leader is now ${r.body.leader}`);
  return 0;
}

export const downHelp = `raft-otel down [--data-dir DIR]

Stops every node of the local cluster (SIGTERM, so a leader hands over first).
`;

export async function downCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: common }) as { values: Values };
  if (values.help) return help(downHelp);
  const c = readCluster(values['data-dir']!);
  const pids = liveNodes(c)
    .map((n) => n.pid)
    .filter(isAlive);
  for (const pid of pids) process.kill(pid, 'SIGCONT');
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
  out(values.json, { stopped: pids.length }, `stopped ${pids.length} node(s)`);
  return 0;
}

async function expectOk(r: { status: number; body: any }): Promise<void> {
  if (r.status >= 400)
    throw new Error(r.body?.error ? `${r.body.error.code}: ${r.body.error.message}` : `HTTP ${r.status}`);
}

function help(text: string, misuse = false): number {
  (misuse ? process.stderr : process.stdout).write(text);
  return misuse ? 2 : 0;
}

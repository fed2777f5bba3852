// `raft-otel up` (what `npm start` runs): starts a local cluster as child processes on 127.0.0.1,
// writes <data-dir>/cluster.json, prints where everything is, reports leader changes and nodes
// going down or coming back, and stops every node cleanly on Ctrl-C. Run it again on the same
// data dir and the same cluster resumes with its data.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatPeers } from '../node/config.js';
import {
  clusterFilePath,
  isAlive,
  liveNodes,
  readCluster,
  writeCluster,
  type ClusterFile,
  type NodeEntry,
} from './cluster-file.js';
import { tryStatus } from './http.js';
import { spawnNode } from './spawn.js';
import { ensureClusterSecret } from './secret-cmd.js';

export const upHelp = `raft-otel up [options]

Starts a local Raft cluster: each node is its own process on 127.0.0.1, node i on base port + i - 1,
with ids n1..nN. Writes <data-dir>/cluster.json, which the other commands read. Ctrl-C stops every
node cleanly. Running it again on the same data dir resumes the cluster with its data.

Options:
  --nodes N          3 or 5 (default 3; ignored when resuming)
  --data-dir DIR     where the nodes keep their data and logs (default ./data)
  --http-port P      HTTP API port of n1 (default 8001)
  --grpc-port P      gRPC port of n1 (default 7001)
  --cluster-id NAME  cluster name (default raft-otel)

The nodes inherit this environment, so RAFT_* and OTEL_* variables reach every node.
Admin endpoints (/admin/) are on, bound to 127.0.0.1 with the rest of the API.
`;

export async function upCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '3' },
      'data-dir': { type: 'string', default: './data' },
      'http-port': { type: 'string', default: '8001' },
      'grpc-port': { type: 'string', default: '7001' },
      'cluster-id': { type: 'string', default: 'raft-otel' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(upHelp);
    return 0;
  }
  // Whoever reads our output may go away (a closed pipe): keep running the cluster regardless.
  process.stdout.on('error', () => {});
  const dataDir = resolve(values['data-dir']!);
  let cluster: ClusterFile;
  if (existsSync(clusterFilePath(dataDir))) {
    cluster = readCluster(dataDir);
    const running = liveNodes(cluster).filter((n) => isAlive(n.pid));
    if (running.length) {
      throw new Error(
        `this cluster is already running (${running.map((n) => `${n.id} pid ${n.pid}`).join(', ')}). ` +
          `Use it from another terminal, stop it with Ctrl-C where it runs or \`raft-otel down\`, or pick another --data-dir`,
      );
    }
    console.log(`Resuming the cluster in ${dataDir} (${liveNodes(cluster).length} nodes)`);
  } else {
    const n = Number(values.nodes);
    if (n !== 3 && n !== 5) throw new Error(`--nodes must be 3 or 5, not ${values.nodes}`);
    cluster = newCluster(dataDir, n, Number(values['http-port']), Number(values['grpc-port']), values['cluster-id']!);
  }
  cluster.env = clusterEnv();
  // Peers authenticate with a secret only this cluster's nodes read (made once, kept across runs).
  if (!cluster.env.RAFT_CLUSTER_SECRET && !cluster.env.RAFT_CLUSTER_SECRET_FILE)
    cluster.env.RAFT_CLUSTER_SECRET_FILE = ensureClusterSecret(join(dataDir, 'cluster-secret'));

  const children = new Map<string, ReturnType<typeof spawnNode>>();
  const start = (entry: NodeEntry) => {
    const child = spawnNode(entry, cluster.env, true);
    entry.pid = child.pid ?? 0;
    children.set(entry.id, child);
    child.on('exit', (code, signal) => {
      if (!stopping)
        console.log(`  ${entry.id} exited (${signal ? `signal ${signal}` : `code ${code}`}); see ${entry.logFile}`);
    });
  };
  let stopping = false;
  for (const entry of liveNodes(cluster)) start(entry);
  writeCluster(cluster);
  printTable(cluster);

  const t0 = Date.now();
  let leader: string | null = null;
  let term = 0;
  const up = new Map<string, boolean>();
  const seen = new Set<string>();
  const watch = setInterval(async () => {
    const current = readCluster(dataDir); // `members add`, `restart` and friends update it
    for (const n of liveNodes(current)) {
      const st = await tryStatus(n, 500);
      const wasUp = up.get(n.id);
      if (st && wasUp === false && seen.has(n.id)) console.log(`  ${n.id} is back (${st.role}, term ${st.term})`);
      if (!st && wasUp === true && isAlive(n.pid)) console.log(`  ${n.id} is not answering (paused?)`);
      up.set(n.id, !!st);
      if (st) seen.add(n.id);
      if (st?.role === 'leader' && (st.id !== leader || st.term !== term)) {
        const first = leader === null;
        leader = st.id;
        term = st.term;
        console.log(
          first
            ? `Leader elected: ${leader} (term ${term}) after ${Date.now() - t0} ms\n${tips(current)}`
            : `  leader is now ${leader} (term ${term})`,
        );
      }
    }
  }, 250);

  return new Promise<number>((done) => {
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      clearInterval(watch);
      console.log('\nStopping the cluster...');
      const current = readCluster(dataDir);
      const pids = liveNodes(current)
        .map((n) => n.pid)
        .filter(isAlive);
      for (const pid of pids) process.kill(pid, 'SIGCONT'); // a paused node cannot act on SIGTERM
      for (const pid of pids) process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
      console.log(`Stopped. The data stays in ${dataDir}: \`npm start\` resumes this cluster.`);
      done(0);
    };
    process.on('SIGINT', () => void stop());
    process.on('SIGTERM', () => void stop());
  });
}

function newCluster(dataDir: string, n: number, httpBase: number, grpcBase: number, clusterId: string): ClusterFile {
  const nodes: NodeEntry[] = [];
  for (let i = 1; i <= n; i++) {
    const id = `n${i}`;
    nodes.push({
      id,
      grpc: `127.0.0.1:${grpcBase + i - 1}`,
      http: `127.0.0.1:${httpBase + i - 1}`,
      pid: 0,
      dataDir: join(dataDir, id),
      logFile: join(dataDir, id, 'node.log'),
      args: [],
    });
  }
  const peers = formatPeers(nodes);
  for (const node of nodes) node.args = nodeArgs(node, peers, clusterId, false);
  return { clusterId, dataDir, nodes, env: {} };
}

export function nodeArgs(
  node: Pick<NodeEntry, 'id' | 'dataDir'>,
  peers: string,
  clusterId: string,
  join: boolean,
): string[] {
  return [
    '--id',
    node.id,
    '--cluster-id',
    clusterId,
    '--peers',
    peers,
    '--data-dir',
    node.dataDir,
    '--admin',
    'true',
    ...(join ? ['--join', 'true'] : []),
  ];
}

/** The environment `up` hands every node. */
function clusterEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && (k.startsWith('RAFT_') || k.startsWith('OTEL_'))) env[k] = v;
  return env;
}

function printTable(c: ClusterFile): void {
  console.log(`\nraft-otel: cluster "${c.clusterId}", ${liveNodes(c).length} nodes, data in ${c.dataDir}\n`);
  console.log('  node  HTTP API                 gRPC               pid      log');
  for (const n of liveNodes(c)) {
    console.log(
      `  ${n.id.padEnd(5)} ${`http://${n.http}`.padEnd(24)} ${n.grpc.padEnd(18)} ${String(n.pid).padEnd(8)} ${n.logFile}`,
    );
  }
  const endpoint = c.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  console.log(
    endpoint
      ? `\nTraces and metrics go to ${endpoint} (OTLP).`
      : `\nTraces: no OTEL_EXPORTER_OTLP_ENDPOINT, so each node writes OTLP JSON to <node data dir>/traces/spans.jsonl\n(set OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 to send them to a collector or Jaeger).`,
  );
  console.log('\nWaiting for a leader...');
}

function tips(c: ClusterFile): string {
  const first = liveNodes(c)[0];
  return [
    '',
    'Try, from another terminal:',
    `  curl -X PUT http://${first.http}/kv/hello -d '{"value":"world"}'`,
    `  curl http://${first.http}/kv/hello`,
    '  npm run raft-otel -- status          # a table of all nodes',
    '  npm run raft-otel -- kill <leader>   # kill -9 the leader and watch a new one take over',
    '  npm run raft-otel -- restart <node>  # bring it back',
    '',
    'Ctrl-C stops the cluster.',
  ].join('\n');
}

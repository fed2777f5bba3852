// `raft-otel up` (what `npm start` runs): starts a local cluster as child processes on 127.0.0.1,
// records it (cluster.json, each node's node.json, up.pid), prints where everything is, reports
// leader changes and nodes exiting, pausing or coming back, and stops every node cleanly on Ctrl-C.
// Run it again on the same data dir and the same cluster resumes with its data.
//
// It only ever reports on its own nodes: a status counts when it comes from the pid it started,
// so another cluster answering on the same ports can never be taken for this one.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatPeers, splitHostPort } from '../node/config.js';
import {
  clusterFileIntact,
  clusterFilePath,
  DEFAULT_DATA_DIR,
  findCluster,
  isPaused,
  isRunning,
  liveNodes,
  removeSupervisorPid,
  supervisorPid,
  writeCluster,
  writeSupervisorPid,
  type ClusterFile,
  type NodeEntry,
} from './cluster-file.js';
import { startCommand } from './common.js';
import { SECRET_VALUE_VARS } from './credentials.js';
import { stopPids } from './down.js';
import { ownStatus } from './http.js';
import { firstBusyPort } from './ports.js';
import { logTail, spawnNode, waitServing, type Started } from './spawn.js';
import { credentialFiles } from './secret-cmd.js';
import { DEFAULT_VIEWER_PORT } from '../viewer/server/info.js';
import type { Viewer } from '../viewer/server/server.js';

export const upHelp = `raft-otel up [options]

Starts a local Raft cluster: each node is its own process on 127.0.0.1, node i on base port + i - 1,
with ids n1..nN. Records it in <data-dir> (cluster.json, and node.json in each node's folder), which
the other commands read. Ctrl-C (or \`raft-otel down\`) stops every node cleanly. Running it again on
the same data dir resumes the cluster with its data (and its ports).

Options:
  --nodes N          3 or 5 (default 3; ignored when resuming)
  --data-dir DIR     where the nodes keep their data and logs (default ./data)
  --http-port P      HTTP API port of n1 (default 8001)
  --grpc-port P      gRPC port of n1 (default 7001)
  --cluster-id NAME  cluster name (default raft-otel)
  --viewer-port P    port of the built-in viewer (default 8000; env RAFT_VIEWER_PORT, "off" for none)
  --no-viewer        do not start the viewer (the nodes then write spans.jsonl, as without it)

The built-in viewer (http://127.0.0.1:8000, printed first) shows the cluster, its timeline and its
traces in a browser, and keeps them in <data-dir>/viewer/. Without OTEL_EXPORTER_OTLP_ENDPOINT the
nodes export their spans to it (OTLP/HTTP JSON); with one set they export there instead, and the
viewer shows what is fed to it (see the README: a collector can send it a copy).

It fails at once, naming the port and who holds it, when a port it needs is in use; and it stops
with the node's log when a node cannot start. The nodes inherit this environment, so RAFT_* and
OTEL_* variables reach every node. Admin endpoints (/admin/) are on, bound to 127.0.0.1, and need
the admin token in <data-dir>/admin-token (mode 0600; the commands send it): "Authorization: Bearer
<token>". The cluster secret is in <data-dir>/cluster-secret. RAFT_CLUSTER_SECRET or RAFT_ADMIN_TOKEN
set here are written to those files, never to cluster.json or node.json.
`;

const POLL_MS = 250;

function port(flag: string, text: string): number {
  const p = Number(text);
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`--${flag} must be a port number, not "${text}"`);
  return p;
}

export async function upCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '3' },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      'http-port': { type: 'string', default: '8001' },
      'grpc-port': { type: 'string', default: '7001' },
      'cluster-id': { type: 'string', default: 'raft-otel' },
      'viewer-port': { type: 'string' },
      'no-viewer': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(upHelp);
    return 0;
  }
  // Whoever reads our output may go away (a closed pipe): keep running the cluster regardless.
  process.stdout.on('error', () => {});
  const dataDir = resolve(values['data-dir']);
  let cluster = findCluster(dataDir);
  const resuming = cluster !== null;
  if (cluster) {
    const running = cluster.nodes.filter(isRunning);
    const up = supervisorPid(dataDir);
    if (running.length || up) {
      throw new Error(
        `this cluster is already running (${[...(up ? [`up pid ${up}`] : []), ...running.map((n) => `${n.id} pid ${n.pid}`)].join(', ')}). ` +
          `Use it from another terminal, stop it with Ctrl-C where it runs or \`raft-otel down${values['data-dir'] === DEFAULT_DATA_DIR ? '' : ` --data-dir ${dataDir}`}\`, or pick another --data-dir`,
      );
    }
    console.log(`Resuming the cluster in ${dataDir} (${liveNodes(cluster).length} nodes)`);
  } else {
    const n = Number(values.nodes);
    if (n !== 3 && n !== 5) throw new Error(`--nodes must be 3 or 5, not ${values.nodes}`);
    const http = port('http-port', values['http-port']);
    const grpc = port('grpc-port', values['grpc-port']);
    cluster = newCluster(dataDir, n, http, grpc, values['cluster-id']);
  }
  // Peers authenticate with a secret, and /admin/ requests with a token, that only this cluster's
  // nodes and commands read: files of mode 0600 (made once, kept across runs). The records name
  // the files, never the values.
  cluster.env = { ...clusterEnv(), ...credentialFiles(dataDir, process.env) };
  const viewerSetting = values['viewer-port'] ?? process.env.RAFT_VIEWER_PORT ?? String(DEFAULT_VIEWER_PORT);
  const viewerPort = values['no-viewer'] || viewerSetting === 'off' ? null : port('viewer-port', viewerSetting);

  const busy = await firstBusyPort(
    liveNodes(cluster).flatMap((n) => [
      { ...splitHostPort(n.http), what: `${n.id}'s HTTP API` },
      { ...splitHostPort(n.grpc), what: `${n.id}'s gRPC` },
    ]),
  );
  if (busy) {
    process.stderr.write(
      `error: port ${busy.port} (${busy.what}) is in use by ${busy.holder ?? 'a process that cannot be identified (another user, or no /proc here)'}.\n` +
        `Nothing was started. Stop whatever holds it (another raft-otel cluster: Ctrl-C where it runs, or ` +
        `\`raft-otel down --data-dir <its data dir>\`), or run this cluster on other ports: ` +
        (resuming
          ? `its ports are kept with its data, so use a new --data-dir with --http-port and --grpc-port.\n`
          : `raft-otel up --http-port 9001 --grpc-port 9101.\n`),
    );
    return 1;
  }
  const viewer = viewerPort === null ? null : await startViewerFor(cluster, viewerPort);
  return new Supervisor(cluster, values['data-dir'], viewer).run();
}

/** Starts the built-in viewer in this process, attached to the cluster, and prints its URL first.
 *  Without an OTLP endpoint of the user's, the nodes export to it (OTLP/HTTP JSON). A viewer that
 *  cannot start (its port taken) does not stop the cluster: `up` says so and runs without it. */
async function startViewerFor(cluster: ClusterFile, viewerPort: number): Promise<Viewer | null> {
  mkdirSync(cluster.dataDir, { recursive: true });
  const { startViewer } = await import('../viewer/server/server.js');
  let viewer: Viewer;
  try {
    viewer = await startViewer({ port: viewerPort, dataDir: cluster.dataDir });
  } catch (e) {
    console.log(`Viewer: not started: ${(e as Error).message}. The cluster starts without it.`);
    return null;
  }
  console.log(`Viewer: ${viewer.url}   <- open this in a browser`);
  if (!cluster.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    cluster.env.OTEL_EXPORTER_OTLP_ENDPOINT = viewer.url;
    cluster.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    // The timeline is live: export every half second rather than the SDK's default 5 s.
    cluster.env.OTEL_BSP_SCHEDULE_DELAY ??= '500';
  }
  return viewer;
}

class Supervisor {
  private stopping = false;
  private readonly t0 = Date.now();
  private leader = { id: '', term: 0 };
  /** What `up` last said about each node, so each change is said once. */
  private said = new Map<string, 'up' | 'exited' | 'paused' | 'starting'>();
  /** Exit descriptions of the processes this `up` started, by pid. */
  private exits = new Map<number, string>();
  /** The pids this `up` started: until their 'exit' arrives, they are not reported gone (a
   *  SIGKILLed child is a zombie, not running, until we reap it and learn how it ended). */
  private children = new Set<number>();
  private clusterFileLost = false;
  private done: (code: number) => void = () => {};

  constructor(
    private cluster: ClusterFile,
    private readonly dataDirArg: string,
    private readonly viewer: Viewer | null = null,
  ) {}

  async run(): Promise<number> {
    const finished = new Promise<number>((r) => (this.done = r));
    mkdirSync(this.cluster.dataDir, { recursive: true }); // a first `up` creates its data dir
    writeSupervisorPid(this.cluster.dataDir);
    process.on('SIGINT', () => void this.stop(0));
    process.on('SIGTERM', () => void this.stop(0));
    const started = new Map<string, Started>();
    for (const entry of liveNodes(this.cluster)) started.set(entry.id, this.start(entry));
    writeCluster(this.cluster);
    printTable(this.cluster, this.viewer?.url ?? null);
    void this.watch();
    // Every node must come up once; a node that cannot start stops the whole `up`.
    Promise.all(liveNodes(this.cluster).map((n) => waitServing(n, started.get(n.id)!, 30_000))).then(
      () => {},
      (e: unknown) => {
        if (this.stopping) return;
        console.log(`\n${e instanceof Error ? e.message : String(e)}\n\nThe cluster cannot start.`);
        void this.stop(1);
      },
    );
    return finished;
  }

  private start(entry: NodeEntry): Started {
    const s = spawnNode(this.cluster, entry, true);
    const pid = entry.pid;
    this.said.set(entry.id, 'starting');
    this.children.add(pid);
    s.child.once('exit', (code, signal) => this.exits.set(pid, signal ? `signal ${signal}` : `code ${code}`));
    return s;
  }

  /** The cluster as the other commands left it (`restart`, `members add` update the files), with
   *  cluster.json written back if someone deleted or damaged it. */
  private current(): ClusterFile {
    const found = findCluster(this.cluster.dataDir);
    const damaged = !clusterFileIntact(this.cluster.dataDir);
    if (found) this.cluster = { ...found, env: this.cluster.env };
    if (damaged) {
      writeCluster(this.cluster);
      if (!this.clusterFileLost)
        console.log(`  ${clusterFilePath(this.cluster.dataDir)} was deleted or damaged: written again`);
      this.clusterFileLost = true;
    } else this.clusterFileLost = false;
    return this.cluster;
  }

  /** One poll at a time, so what it prints is in the order it happened. */
  private async watch(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.poll();
      } catch (e) {
        console.log(`  (watching the cluster failed once: ${(e as Error).message})`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  private async poll(): Promise<void> {
    const c = this.current();
    const nodes = liveNodes(c);
    const states = await Promise.all(
      nodes.map(async (n) => {
        if (!isRunning(n))
          return {
            n,
            state: this.children.has(n.pid) && !this.exits.has(n.pid) ? null : ('exited' as const),
            st: null,
          };
        if (isPaused(n.pid)) return { n, state: 'paused' as const, st: null };
        return { n, state: 'up' as const, st: await ownStatus(n, 500) };
      }),
    );
    if (this.stopping) return;
    for (const { n, state, st } of states) {
      const before = this.said.get(n.id);
      if (state === null) continue; // our child, its exit not yet seen: next round
      if (state === 'exited' && before !== 'exited') {
        const how = this.exits.get(n.pid);
        console.log(`  ${n.id} exited${how ? ` (${how})` : ''}; last lines of ${n.logFile}:\n${logTail(n, 0, 5)}`);
        this.said.set(n.id, 'exited');
      } else if (state === 'paused' && before !== 'paused') {
        console.log(`  ${n.id} is paused (SIGSTOP); \`raft-otel resume ${n.id}\` carries on`);
        this.said.set(n.id, 'paused');
      } else if (state === 'up' && st && before !== 'up') {
        if (before === 'exited' || before === 'paused')
          console.log(`  ${n.id} is ${before === 'paused' ? 'resumed' : 'back'} (${st.role}, term ${st.term})`);
        this.said.set(n.id, 'up');
      }
    }
    // Leaders in term order: a status from an older term never replaces a newer leader.
    const leaders = states
      .map((s) => s.st)
      .filter((st) => st?.role === 'leader')
      .sort((a, b) => a!.term - b!.term);
    for (const st of leaders) {
      if (st!.term <= this.leader.term) continue;
      const first = this.leader.term === 0;
      this.leader = { id: st!.id, term: st!.term };
      console.log(
        first
          ? `Leader elected: ${st!.id} (term ${st!.term}) after ${Date.now() - this.t0} ms\n${tips(c, this.dataDirArg, this.viewer?.url ?? null)}`
          : `  leader is now ${st!.id} (term ${st!.term})`,
      );
    }
  }

  private async stop(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    console.log(code ? 'Stopping the nodes that started...' : '\nStopping the cluster...');
    const c = findCluster(this.cluster.dataDir) ?? this.cluster;
    const pids = new Set([...c.nodes, ...this.cluster.nodes].filter(isRunning).map((n) => n.pid));
    await stopPids([...pids]);
    // After the nodes: their last spans, flushed as they stop, still reach the viewer.
    await this.viewer?.close();
    removeSupervisorPid(this.cluster.dataDir);
    if (!code)
      console.log(
        `Stopped. The data stays in ${this.cluster.dataDir}: ${startCommand(this.dataDirArg, DEFAULT_DATA_DIR)} resumes this cluster.`,
      );
    this.done(code);
  }
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

/** The environment `up` hands every node (and records): RAFT_* and OTEL_* but no credential
 *  itself (credentialFiles turns those into files). */
function clusterEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && (k.startsWith('RAFT_') || k.startsWith('OTEL_')) && !(k in SECRET_VALUE_VARS)) env[k] = v;
  return env;
}

function printTable(c: ClusterFile, viewerUrl: string | null): void {
  console.log(`\nraft-otel: cluster "${c.clusterId}", ${liveNodes(c).length} nodes, data in ${c.dataDir}\n`);
  console.log('  node  HTTP API                 gRPC               pid      log');
  for (const n of liveNodes(c)) {
    console.log(
      `  ${n.id.padEnd(5)} ${`http://${n.http}`.padEnd(24)} ${n.grpc.padEnd(18)} ${String(n.pid).padEnd(8)} ${n.logFile}`,
    );
  }
  const endpoint = c.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  console.log(
    viewerUrl && endpoint === viewerUrl
      ? `\nTraces go to the viewer, ${viewerUrl} (kept in ${c.dataDir}/viewer/).`
      : endpoint
        ? `\nTraces and metrics go to ${endpoint} (OTLP).${viewerUrl ? ` The viewer shows only what is sent to it (README: "The built-in viewer").` : ''}`
        : `\nTraces: no OTEL_EXPORTER_OTLP_ENDPOINT, so each node writes OTLP JSON to <node data dir>/traces/spans.jsonl\n(set OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 to send them to a collector or Jaeger).`,
  );
  console.log('\nWaiting for a leader...');
}

function tips(c: ClusterFile, dataDirArg: string, viewerUrl: string | null): string {
  const first = liveNodes(c)[0];
  const dir = dataDirArg === DEFAULT_DATA_DIR ? '' : ` --data-dir ${c.dataDir}`;
  return [
    ...(viewerUrl
      ? [
          '',
          `Open ${viewerUrl}: the cluster panel (kill the leader with its button) and the timeline of elections and writes.`,
        ]
      : []),
    '',
    'Try, from another terminal:',
    `  curl -X PUT http://${first.http}/kv/hello -d '{"value":"world"}'`,
    `  curl http://${first.http}/kv/hello`,
    `  npm run raft-otel -- status${dir}          # a table of all nodes`,
    `  npm run raft-otel -- kill <leader>${dir}   # kill -9 the leader and watch a new one take over`,
    `  npm run raft-otel -- restart <node>${dir}  # bring it back`,
    '',
    'Ctrl-C stops the cluster.',
  ].join('\n');
}

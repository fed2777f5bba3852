// How the commands find a local cluster and its processes.
//
// - <data-dir>/cluster.json: the cluster (id, nodes with their addresses, pids and the exact
//   arguments each was started with, so `restart` starts it again the same way). `up` writes it;
//   every other command reads it.
// - <data-dir>/<id>/node.json: the same node entry, written each time the node is started. A
//   deleted or damaged cluster.json cannot hide a running node: the cluster is rebuilt from these,
//   and their pids win over cluster.json's (they are written last).
// - <data-dir>/up.pid: the pid of the `up` supervising the cluster, so `down` can stop it too.
//
// A recorded pid counts as the node only while that process's command line names the node's data
// dir (on Linux, from /proc): after a reboot or a crash, the number may belong to anything.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { commandLine, isAlive, isOwnProcess } from './pids.js';

export interface NodeEntry {
  id: string;
  grpc: string;
  http: string;
  pid: number;
  dataDir: string;
  logFile: string;
  args: string[];
  removed?: boolean;
}

export interface ClusterFile {
  clusterId: string;
  /** '' for a compose cluster: it has no local files. */
  dataDir: string;
  nodes: NodeEntry[];
  /** Environment every node is started with (OTLP endpoint and the like). */
  env: Record<string, string>;
  /** Set when the nodes are compose services (`--compose`, see compose.ts), never written to disk. */
  compose?: ComposeProject;
}

/** What `docker compose` says about one node's service (compose.ts reads it). */
export interface ComposeNode {
  id: string;
  service: string;
  /** The node's gRPC and HTTP addresses on the compose network (what peers are told). */
  grpc: string;
  http: string;
  /** host:port where this machine reaches its HTTP API. */
  published: string;
  profiles: string[];
  /** The container's state (running, paused, exited, restarting, created), or null without one. */
  state: string | null;
}

export interface ComposeProject {
  name: string;
  clusterId: string;
  nodes: ComposeNode[];
}

/** <data-dir>/<id>/node.json: one node's entry plus what its cluster needs to start it again. */
interface NodeFile extends NodeEntry {
  clusterId: string;
  env: Record<string, string>;
}

export const DEFAULT_DATA_DIR = './data';

export function clusterFilePath(dataDir: string): string {
  return join(resolve(dataDir), 'cluster.json');
}

export function nodeFilePath(entry: Pick<NodeEntry, 'dataDir'>): string {
  return join(entry.dataDir, 'node.json');
}

export function supervisorPidPath(dataDir: string): string {
  return join(resolve(dataDir), 'up.pid');
}

/** Through a .tmp file and a rename, both mode 0600: the records name the credential files and
 *  the nodes' command lines, which other users of the machine have no business reading. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  rmSync(tmp, { force: true }); // a .tmp left by a crash may have another mode: make it anew
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

function isNodeFile(x: unknown): x is NodeFile {
  const n = x as Partial<NodeFile> | null;
  return (
    typeof n?.id === 'string' &&
    typeof n.http === 'string' &&
    typeof n.grpc === 'string' &&
    typeof n.dataDir === 'string' &&
    Array.isArray(n.args) &&
    typeof n.clusterId === 'string'
  );
}

function isClusterFile(x: unknown): x is ClusterFile {
  const c = x as Partial<ClusterFile> | null;
  return typeof c?.clusterId === 'string' && typeof c.dataDir === 'string' && Array.isArray(c.nodes);
}

/** True when cluster.json is there and reads as a cluster. */
export function clusterFileIntact(dataDir: string): boolean {
  return isClusterFile(readJson(clusterFilePath(dataDir)));
}

/** The node files under a data dir, one per node folder that has one. */
function nodeFiles(dataDir: string): NodeFile[] {
  let dirs: string[];
  try {
    dirs = readdirSync(dataDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
  return dirs.map((d) => readJson(join(dataDir, d, 'node.json'))).filter(isNodeFile);
}

/** The cluster in dataDir, or null when there is none (no cluster.json and no node.json). */
export function findCluster(dataDir: string): ClusterFile | null {
  const dir = resolve(dataDir);
  const fromFile = readJson(clusterFilePath(dir));
  const files = nodeFiles(dir);
  if (!isClusterFile(fromFile)) {
    if (!files.length) return null;
    // cluster.json is gone or damaged: rebuild it from the nodes' own files.
    const nodes = files.map(({ clusterId: _c, env: _e, ...entry }) => entry).sort((a, b) => byId(a.id, b.id));
    return { clusterId: files[0].clusterId, dataDir: dir, nodes, env: files[0].env ?? {} };
  }
  for (const f of files) {
    const { clusterId: _c, env: _e, ...entry } = f;
    const i = fromFile.nodes.findIndex((n) => n.id === f.id);
    if (i < 0) fromFile.nodes.push(entry);
    else
      fromFile.nodes[i] = { ...fromFile.nodes[i], pid: entry.pid, removed: entry.removed ?? fromFile.nodes[i].removed };
  }
  return fromFile;
}

/** n2 before n10. */
function byId(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export function readCluster(dataDir: string): ClusterFile {
  const c = findCluster(dataDir);
  if (!c) {
    throw new Error(
      `no cluster at ${resolve(dataDir)}. Start one with \`npm start\` (raft-otel up), or pass --data-dir where it runs`,
    );
  }
  return c;
}

export function writeCluster(c: ClusterFile): void {
  writeAtomically(clusterFilePath(c.dataDir), JSON.stringify(c, null, 2) + '\n');
}

/** Records one node where a lost cluster.json cannot hide it (call after each start). */
export function writeNodeFile(c: Pick<ClusterFile, 'clusterId' | 'env'>, entry: NodeEntry): void {
  const file: NodeFile = { ...entry, clusterId: c.clusterId, env: c.env };
  writeAtomically(nodeFilePath(entry), JSON.stringify(file, null, 2) + '\n');
}

/** Both records of a node: its node.json and the cluster file. */
export function saveNode(c: ClusterFile, entry: NodeEntry): void {
  // A removed node whose folder is gone (its disk lost, as in exercise 08) has no node.json to
  // keep: cluster.json alone records that it left.
  if (!(entry.removed && !existsSync(entry.dataDir))) writeNodeFile(c, entry);
  writeCluster(c);
}

export function liveNodes(c: ClusterFile): NodeEntry[] {
  return c.nodes.filter((n) => !n.removed);
}

export function findNode(c: ClusterFile, id: string): NodeEntry {
  const n = c.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node "${id}" in this cluster; nodes are ${c.nodes.map((x) => x.id).join(', ')}`);
  return n;
}

/** True when the node's recorded pid is alive and is that node (its command line names its
 *  data dir), not a process that reused the number. Without /proc, a live pid is trusted. */
export function isRunning(entry: Pick<NodeEntry, 'pid' | 'dataDir'>): boolean {
  return isOwnProcess(entry.pid, entry.dataDir);
}

/** True when the process is stopped (SIGSTOP): `pause` froze it. Linux only; false elsewhere. */
export function isPaused(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  } catch {
    return false;
  }
}

// ---- the supervisor (`up`) -------------------------------------------------------------------

export function writeSupervisorPid(dataDir: string): void {
  writeAtomically(supervisorPidPath(dataDir), `${process.pid}\n`);
}

/** The pid of the `up` running this data dir's cluster, or 0. */
export function supervisorPid(dataDir: string): number {
  let pid: number;
  try {
    pid = Number(readFileSync(supervisorPidPath(dataDir), 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
  if (!isAlive(pid)) return 0;
  const cmd = commandLine(pid);
  return cmd === null || / up\b/.test(cmd) ? pid : 0;
}

export function removeSupervisorPid(dataDir: string): void {
  try {
    if (Number(readFileSync(supervisorPidPath(dataDir), 'utf8').trim()) === process.pid)
      rmSync(supervisorPidPath(dataDir), { force: true });
  } catch {
    /* not there */
  }
}

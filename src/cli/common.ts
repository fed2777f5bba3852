// What the commands that act on a running cluster share: the common options, output for humans
// or --json, usage errors that say what is wrong first, finding the cluster (local, or compose
// with --compose) and a node that answers.
import {
  DEFAULT_DATA_DIR,
  findNode,
  liveNodes,
  readCluster,
  type ClusterFile,
  type NodeEntry,
} from './cluster-file.js';
import { composeCluster } from './compose.js';
import { tryStatus } from './http.js';

export const common = {
  'data-dir': { type: 'string' as const, default: DEFAULT_DATA_DIR },
  compose: { type: 'boolean' as const },
  json: { type: 'boolean' as const, default: false },
  help: { type: 'boolean' as const, short: 'h' },
};

export interface CommonValues {
  'data-dir': string;
  compose?: boolean;
  json: boolean;
  help?: boolean;
}

/** What every cluster command's --help ends with. */
export const CLUSTER_OPTIONS = `
Cluster: the local one in --data-dir DIR (default ${DEFAULT_DATA_DIR}, started by \`npm start\`), or with
  --compose the \`docker compose up\` stack of the current folder (docker-compose.yml, or COMPOSE_FILE):
  processes through \`docker compose\`, faults through each node's published API. RAFT_OTEL_COMPOSE=1
  in the environment makes --compose the default.
`;

/** Whether this command runs against the compose stack: --compose, or RAFT_OTEL_COMPOSE=1 in the
 *  environment (an instructor's shell exports it once for a Docker class). */
export function usesCompose(v: Pick<CommonValues, 'compose'>, env: NodeJS.ProcessEnv = process.env): boolean {
  return v.compose ?? /^(1|true|yes|on)$/i.test(env.RAFT_OTEL_COMPOSE ?? '');
}

/** The cluster the command acts on: the compose stack, or the local cluster in --data-dir. */
export function openCluster(v: Pick<CommonValues, 'compose' | 'data-dir'>): ClusterFile {
  return usesCompose(v) ? composeCluster() : readCluster(v['data-dir']);
}

export function out(json: boolean | undefined, data: unknown, human: string): void {
  console.log(json ? JSON.stringify(data, null, 2) : human);
}

/** Prints the help: on stdout when asked for (exit 0), on stderr after what was wrong (exit 2). */
export function help(text: string, problem?: string): number {
  if (problem === undefined) {
    process.stdout.write(text);
    return 0;
  }
  process.stderr.write(`error: ${problem}\n\n${text}`);
  return 2;
}

/** Every id given must be a node of the cluster; else an error naming the strangers. */
export function checkIds(c: ClusterFile, ids: string[]): string | null {
  const known = new Set(liveNodes(c).map((n) => n.id));
  const unknown = ids.filter((id) => !known.has(id));
  return unknown.length
    ? `no node ${unknown.map((id) => `"${id}"`).join(', ')} in this cluster; nodes are ${[...known].join(', ')}`
    : null;
}

/** A node that answers, preferring the leader (all asked at once). */
export async function someNode(c: ClusterFile, prefer?: string): Promise<NodeEntry> {
  if (prefer) return findNode(c, prefer);
  const nodes = liveNodes(c);
  const sts = await Promise.all(nodes.map((n) => tryStatus(n, 500)));
  const leader = sts.find((st) => st?.role === 'leader') ?? sts.find((st) => st?.leader)?.leader;
  const id = typeof leader === 'string' ? leader : leader?.id;
  const chosen = nodes.find((n) => n.id === id) ?? nodes.find((_, i) => sts[i]);
  if (!chosen)
    throw new Error(
      c.compose
        ? 'no node of the compose stack answers on its published port. Is it up? `docker compose up -d` starts it'
        : 'no node of the cluster answers. Is it running? Start it with `npm start`',
    );
  return chosen;
}

export async function leaderNode(c: ClusterFile): Promise<NodeEntry> {
  const n = await someNode(c);
  const st = await tryStatus(n);
  if (st?.role !== 'leader')
    throw new Error('the cluster has no leader right now; wait a moment (an election takes about a second) and retry');
  return n;
}

/** "npm start" for the default data dir, else the command that names this one. */
export function startCommand(dataDir: string, defaultDir: string): string {
  return dataDir === defaultDir ? '`npm start`' : `\`npm start -- --data-dir ${dataDir}\``;
}

// The compose flavour of a cluster (`--compose`, or RAFT_OTEL_COMPOSE=1): the nodes are the
// services of the compose project in the current directory (docker-compose.yml, or the files
// COMPOSE_FILE names), found by asking `docker compose` itself, so the two- and five-node files,
// profiles and overrides all resolve exactly as compose resolves them:
//   - `docker compose --profile replace config --format json`: every node service (one with a
//     RAFT_ID), its address on the compose network and the localhost port its API is published on;
//   - `docker compose ps --all --format json`: which containers exist and whether they run.
// Processes change through `docker compose` (kill -s KILL, start, pause, unpause, stop, up -d);
// cuts and chaos go through each node's admin API on its published port, as in local mode.
import { spawnSync } from 'node:child_process';
import type { ClusterControl } from '../check/control.js';
import { parsePeers } from '../node/config.js';
import { liveNodes, type ClusterFile, type ComposeNode, type ComposeProject, type NodeEntry } from './cluster-file.js';
import { adminCall, expectOk, tryStatus } from './http.js';
import type { NodeStatus } from '../api/status.js';

/** The profile of the services that are not started by `docker compose up` but can be added to the
 *  cluster later (exercise 08: raft-4 replaces a server that lost its disk). */
export const REPLACE_PROFILE = 'replace';

/** Runs `docker compose ARGS`; its stdout, or an error saying what to do. */
export function dockerCompose(args: string[], timeoutMs = 120_000): string {
  const r = spawnSync('docker', ['compose', ...args], { encoding: 'utf8', timeout: timeoutMs });
  const cmd = `docker compose ${args.join(' ')}`;
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new Error(
        'docker is not installed or not on PATH. --compose drives a `docker compose up` cluster; without Docker, use the local cluster (`npm start`, no --compose)',
      );
    throw new Error(`${cmd} failed (${code ?? r.error.message})`);
  }
  if (
    r.status !== 0 &&
    /is not a docker command|unknown command|^\s*Usage:\s+docker \[OPTIONS\] COMMAND/m.test(r.stderr)
  ) {
    // The docker CLI is there, its compose plugin is not: docker treats `compose` as unknown.
    throw new Error(
      'docker is installed but not its compose plugin (`docker compose version` fails): install docker-compose-plugin (Docker Desktop has it)',
    );
  }
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' / ');
    throw new Error(
      `${cmd} failed (exit ${r.status}${why ? `: ${why}` : ''}). Run it from the project's folder (where docker-compose.yml is), with the stack up (\`docker compose up -d\`)`,
    );
  }
  return r.stdout;
}

interface ConfigPort {
  target?: number | string;
  published?: number | string;
  host_ip?: string;
}
interface ConfigService {
  environment?: Record<string, string | null>;
  ports?: ConfigPort[];
  profiles?: string[];
}
interface ConfigDoc {
  name?: string;
  services?: Record<string, ConfigService>;
}
interface PsRow {
  Service?: string;
  State?: string;
}

/** JSON that `docker compose` printed; an error naming the command when it is not JSON. */
function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(
      `docker compose ${what} printed no JSON (${text.trim().slice(0, 80) || 'nothing'}); is compose v2?`,
    );
  }
}

/** `ps --format json` prints one object per line (compose >= 2.21) or one array (older). */
export function parsePs(text: string): PsRow[] {
  const t = text.trim();
  if (!t) return [];
  if (t.startsWith('[')) return parseJson(t, 'ps') as PsRow[];
  return t.split('\n').map((l) => parseJson(l, 'ps') as PsRow);
}

/** The node services of a resolved compose config (`config --format json`) and their states. */
export function composeNodes(config: ConfigDoc, ps: PsRow[]): ComposeProject {
  const states = new Map(ps.map((r) => [r.Service, r.State ?? null]));
  const nodes: ComposeNode[] = [];
  let clusterId = 'raft-otel';
  for (const [service, svc] of Object.entries(config.services ?? {})) {
    const env = svc.environment ?? {};
    const id = env.RAFT_ID;
    if (!id) continue;
    clusterId = env.RAFT_CLUSTER_ID || clusterId;
    const self = parsePeers(env.RAFT_PEERS ?? '').find((p) => p.id === id);
    if (!self) throw new Error(`compose service ${service} (node ${id}) is not in its own RAFT_PEERS`);
    const httpPort = Number(self.http.split(':').pop());
    const port = (svc.ports ?? []).find((p) => Number(p.target) === httpPort && p.published);
    if (!port)
      throw new Error(
        `compose service ${service} (node ${id}) publishes no port for its HTTP API (${httpPort}); add ports: ["127.0.0.1:PORT:${httpPort}"]`,
      );
    const host = !port.host_ip || port.host_ip === '0.0.0.0' || port.host_ip === '::' ? '127.0.0.1' : port.host_ip;
    nodes.push({
      id,
      service,
      grpc: self.grpc,
      http: self.http,
      published: `${host}:${Number(port.published)}`,
      profiles: svc.profiles ?? [],
      state: states.get(service) ?? null,
    });
  }
  if (!nodes.length)
    throw new Error(
      'the compose project has no node services (none sets RAFT_ID). Run this from the raft-otel folder, where docker-compose.yml is',
    );
  nodes.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  return { name: config.name ?? '', clusterId, nodes };
}

/** The resolved compose config, the replace profile's services included. */
function readConfig(): ConfigDoc {
  return parseJson(dockerCompose(['--profile', REPLACE_PROFILE, 'config', '--format', 'json']), 'config') as ConfigDoc;
}

/** The project's containers, of every state. */
function readPs(): PsRow[] {
  return parsePs(dockerCompose(['--profile', REPLACE_PROFILE, 'ps', '--all', '--format', 'json']));
}

/** Asks compose for the project's node services and their containers' states. */
export function readComposeProject(): ComposeProject {
  return composeNodes(readConfig(), readPs());
}

/** The compose project as the commands see a cluster: each node reached on its published port.
 *  A node counts while its container exists (running, paused or stopped): raft-4 of the replace
 *  profile once started, a removed member no longer (`members remove --compose` removes its
 *  container). dataDir is '' (no local files: no admin token, nothing to write). */
export function composeCluster(project = readComposeProject()): ClusterFile {
  if (!project.nodes.some((n) => n.state !== null))
    throw new Error(
      `no node of the compose project ${project.name} has a container; start the stack with \`docker compose up -d\``,
    );
  return {
    clusterId: project.clusterId,
    dataDir: '',
    env: {},
    compose: project,
    nodes: project.nodes.map((n): NodeEntry => ({
      id: n.id,
      http: n.published,
      grpc: n.grpc,
      pid: 0,
      dataDir: '',
      logFile: '',
      args: [],
      removed: n.state === null,
    })),
  };
}

/** The compose facts of node `id`; an error naming the known ones. */
export function composeNode(c: ClusterFile, id: string): ComposeNode {
  const n = c.compose?.nodes.find((x) => x.id === id);
  if (!n)
    throw new Error(
      `no compose service runs node "${id}"; the node services are ${(c.compose?.nodes ?? []).map((x) => `${x.service} (${x.id})`).join(', ')}`,
    );
  return n;
}

/** Whether the container runs (paused counts: the process is there, frozen). */
export function containerUp(n: ComposeNode): boolean {
  return n.state === 'running' || n.state === 'paused';
}

/** Waits until the node answers /status on its published port; an error naming the logs otherwise. */
export async function waitComposeServing(c: ClusterFile, id: string, timeoutMs = 60_000): Promise<NodeStatus> {
  const n = composeNode(c, id);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await tryStatus({ id, http: n.published }, 500);
    if (st?.id === id) return st;
    if (Date.now() > deadline)
      throw new Error(
        `${id} (${n.service}) did not answer on http://${n.published} within ${timeoutMs / 1000} s; \`docker compose logs ${n.service}\` says why`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A ClusterControl for the compose project: what bench and check-linearizable drive. A nemesis
 *  asks `running` often, so the config is read once and the containers' states are kept for half
 *  a second (and forgotten after each action). */
export function composeControl(): ClusterControl {
  const config = readConfig();
  let ps: { rows: PsRow[]; at: number } | null = null;
  const cluster = () => {
    if (!ps || Date.now() - ps.at > 500) ps = { rows: readPs(), at: Date.now() };
    return composeCluster(composeNodes(config, ps.rows));
  };
  const act = (args: string[]) => {
    ps = null;
    dockerCompose(args);
  };
  const service = (id: string) => composeNode(cluster(), id).service;
  return {
    members: () => liveNodes(cluster()).map((n) => ({ id: n.id, http: n.http })),
    running: (id) => containerUp(composeNode(cluster(), id)),
    kill: (id) => {
      act(['kill', '-s', 'KILL', service(id)]);
      return Promise.resolve();
    },
    restart: async (id) => {
      const c = cluster();
      act(['start', composeNode(c, id).service]);
      await waitComposeServing(c, id);
    },
    pause: (id) => act(['pause', service(id)]),
    resume: (id) => act(['unpause', service(id)]),
    chaos: async (id, settings) => {
      const c = cluster();
      const n = c.nodes.find((x) => x.id === id);
      if (!n) throw new Error(`no node ${id}`);
      expectOk(await adminCall(c, n, 'POST', '/admin/chaos', settings, 2000));
    },
  };
}

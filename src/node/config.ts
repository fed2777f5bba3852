// Every setting of a node, declared once: the flag, the environment variable, the default and
// what it means. The `node` command parses flags and environment from this table, `--help` prints
// it, and the README and the compose file are checked against it.
import { chaosFromEnv, type ChaosSettings } from '../transport/chaos.js';

export interface PeerAddress {
  id: string;
  /** host:port of the peer's gRPC server. */
  grpc: string;
  /** host:port of the peer's HTTP API. */
  http: string;
}

export interface NodeConfig {
  id: string;
  clusterId: string;
  peers: PeerAddress[];
  join: boolean;
  dataDir: string;
  grpcListen: string;
  httpListen: string;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  snapshotEvery: number;
  requestTimeoutMs: number;
  admin: boolean;
  adminToken: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  chaos: ChaosSettings;
}

type Kind = 'string' | 'int' | 'bool' | 'peers' | 'level';

export interface OptionSpec {
  key: keyof Omit<NodeConfig, 'chaos'>;
  flag: string;
  env: string;
  kind: Kind;
  default: string;
  help: string;
}

export const NODE_OPTIONS: OptionSpec[] = [
  { key: 'id', flag: 'id', env: 'RAFT_ID', kind: 'string', default: '', help: "this node's id, e.g. n1 (required)" },
  {
    key: 'clusterId',
    flag: 'cluster-id',
    env: 'RAFT_CLUSTER_ID',
    kind: 'string',
    default: 'raft-otel',
    help: 'cluster name; nodes refuse messages from another cluster',
  },
  {
    key: 'peers',
    flag: 'peers',
    env: 'RAFT_PEERS',
    kind: 'peers',
    default: '',
    help: 'every initial member, this node included: id=grpcHost:port/httpHost:port,... e.g. n1=127.0.0.1:7001/127.0.0.1:8001',
  },
  {
    key: 'join',
    flag: 'join',
    env: 'RAFT_JOIN',
    kind: 'bool',
    default: 'false',
    help: 'start as a new member joining an existing cluster (a learner until promoted)',
  },
  {
    key: 'dataDir',
    flag: 'data-dir',
    env: 'RAFT_DATA_DIR',
    kind: 'string',
    default: './data/<id>',
    help: 'where the log, hard state and snapshots live',
  },
  {
    key: 'grpcListen',
    flag: 'grpc-listen',
    env: 'RAFT_GRPC_LISTEN',
    kind: 'string',
    default: "<this node's grpc address>",
    help: 'host:port the gRPC server binds',
  },
  {
    key: 'httpListen',
    flag: 'http-listen',
    env: 'RAFT_HTTP_LISTEN',
    kind: 'string',
    default: "<this node's http address>",
    help: 'host:port the HTTP API binds',
  },
  {
    key: 'tickMs',
    flag: 'tick-ms',
    env: 'RAFT_TICK_MS',
    kind: 'int',
    default: '10',
    help: 'milliseconds per logical tick',
  },
  {
    key: 'electionTicks',
    flag: 'election-ticks',
    env: 'RAFT_ELECTION_TICKS',
    kind: 'int',
    default: '30',
    help: 'election timeout in ticks (randomized between 1x and 2x)',
  },
  {
    key: 'heartbeatTicks',
    flag: 'heartbeat-ticks',
    env: 'RAFT_HEARTBEAT_TICKS',
    kind: 'int',
    default: '5',
    help: 'heartbeat interval in ticks',
  },
  {
    key: 'preVote',
    flag: 'pre-vote',
    env: 'RAFT_PRE_VOTE',
    kind: 'bool',
    default: 'true',
    help: 'PreVote (thesis 9.6): a partitioned node cannot raise the term',
  },
  {
    key: 'checkQuorum',
    flag: 'check-quorum',
    env: 'RAFT_CHECK_QUORUM',
    kind: 'bool',
    default: 'true',
    help: 'CheckQuorum (thesis 6.2): a cut-off leader steps down; enables lease reads',
  },
  {
    key: 'snapshotEvery',
    flag: 'snapshot-every',
    env: 'RAFT_SNAPSHOT_EVERY',
    kind: 'int',
    default: '10000',
    help: 'snapshot the state machine and compact the log every N applied entries',
  },
  {
    key: 'requestTimeoutMs',
    flag: 'request-timeout-ms',
    env: 'RAFT_REQUEST_TIMEOUT_MS',
    kind: 'int',
    default: '5000',
    help: 'how long a client request may wait for commit before its outcome is reported unknown',
  },
  {
    key: 'admin',
    flag: 'admin',
    env: 'RAFT_ADMIN',
    kind: 'bool',
    default: 'false',
    help: 'enable the /admin/ endpoints (faults, membership, transfer, snapshot)',
  },
  {
    key: 'adminToken',
    flag: 'admin-token',
    env: 'RAFT_ADMIN_TOKEN',
    kind: 'string',
    default: '',
    help: 'if set, /admin/ requests need the header Authorization: Bearer <token>',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'RAFT_LOG_LEVEL',
    kind: 'level',
    default: 'info',
    help: 'debug, info, warn or error',
  },
];

/** Chaos defaults come from their own variables (see transport/chaos.ts). */
export const CHAOS_ENV = ['RAFT_CHAOS_DROP', 'RAFT_CHAOS_DROP_REPLY', 'RAFT_CHAOS_DELAY_MS', 'RAFT_CHAOS_CUT'];

export function parsePeers(text: string): PeerAddress[] {
  if (!text.trim()) return [];
  return text.split(',').map((part) => {
    const m = /^\s*([A-Za-z0-9_.-]+)=([^/\s]+:\d+)\/([^/\s]+:\d+)\s*$/.exec(part);
    if (!m)
      throw new Error(
        `peer "${part.trim()}" is not id=grpcHost:port/httpHost:port (e.g. n1=127.0.0.1:7001/127.0.0.1:8001)`,
      );
    return { id: m[1], grpc: m[2], http: m[3] };
  });
}

export function formatPeers(peers: PeerAddress[]): string {
  return peers.map((p) => `${p.id}=${p.grpc}/${p.http}`).join(',');
}

function parseValue(spec: OptionSpec, raw: string, source: string): unknown {
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'int': {
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${source}=${raw}: expected a positive whole number`);
      return n;
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new Error(`${source}=${raw}: expected true or false`);
    case 'peers':
      return parsePeers(raw);
    case 'level':
      if (!['debug', 'info', 'warn', 'error'].includes(raw))
        throw new Error(`${source}=${raw}: expected debug, info, warn or error`);
      return raw;
  }
}

/** Builds a node's configuration from flags (highest priority), then environment, then defaults. */
export function loadNodeConfig(
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): NodeConfig {
  const out: Record<string, unknown> = {};
  for (const spec of NODE_OPTIONS) {
    const flag = flags[spec.flag];
    let raw: string | undefined;
    let source = `--${spec.flag}`;
    if (flag !== undefined) raw = String(flag);
    else if (env[spec.env] !== undefined && env[spec.env] !== '') {
      raw = env[spec.env];
      source = spec.env;
    } else if (!spec.default.startsWith('<') && !spec.default.startsWith('./data')) raw = spec.default;
    if (raw !== undefined) out[spec.key] = parseValue(spec, raw, source);
  }
  const cfg = out as unknown as NodeConfig;
  if (!cfg.id) throw new Error('the node needs an id: --id n1 (or RAFT_ID=n1)');
  if (!cfg.peers?.length)
    throw new Error('the node needs its peers: --peers n1=127.0.0.1:7001/127.0.0.1:8001,... (or RAFT_PEERS)');
  const self = cfg.peers.find((p) => p.id === cfg.id);
  if (!self)
    throw new Error(`--peers does not list this node (${cfg.id}); list every initial member, this one included`);
  cfg.dataDir ??= `./data/${cfg.id}`;
  cfg.grpcListen ??= self.grpc;
  cfg.httpListen ??= self.http;
  if (cfg.heartbeatTicks >= cfg.electionTicks)
    throw new Error(
      `heartbeat (${cfg.heartbeatTicks} ticks) must be shorter than the election timeout (${cfg.electionTicks} ticks)`,
    );
  cfg.chaos = chaosFromEnv(env);
  return cfg;
}

export function nodeOptionsHelp(): string {
  return NODE_OPTIONS.map(
    (o) => `  --${o.flag.padEnd(20)} ${o.env.padEnd(24)} ${o.help}${o.default ? ` (default ${o.default})` : ''}`,
  ).join('\n');
}

// Every setting of a node, declared once: the flag, the environment variable, the default and
// what it means. The `node` command parses flags and environment from this table, `--help` prints
// it, and the README and the compose file are checked against it.
import { readFileSync } from 'node:fs';
import { chaosFromEnv, type ChaosSettings } from '../transport/chaos.js';
import { loadPeerTls, MIN_SECRET_LENGTH, type PeerSecurity } from '../transport/peer-auth.js';

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
  adminTokenFile: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  chaos: ChaosSettings;
  clusterSecretFile: string;
  insecurePeers: boolean;
  peerTlsCa: string;
  peerTlsCert: string;
  peerTlsKey: string;
  /** How peers authenticate, built from the settings above and RAFT_CLUSTER_SECRET. */
  security: PeerSecurity;
}

type Kind = 'string' | 'int' | 'bool' | 'peers' | 'level';

export interface OptionSpec {
  key: keyof Omit<NodeConfig, 'chaos' | 'security'>;
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
    help: 'if set, /admin/ requests need the header Authorization: Bearer <token> (a flag shows in ps: prefer the file)',
  },
  {
    key: 'adminTokenFile',
    flag: 'admin-token-file',
    env: 'RAFT_ADMIN_TOKEN_FILE',
    kind: 'string',
    default: '',
    help: 'file holding the admin token (raft-otel up makes <data-dir>/admin-token); wins over --admin-token',
  },
  {
    key: 'clusterSecretFile',
    flag: 'cluster-secret-file',
    env: 'RAFT_CLUSTER_SECRET_FILE',
    kind: 'string',
    default: '',
    help: 'file holding the cluster secret every peer call must carry (raft-otel up and compose make it); RAFT_CLUSTER_SECRET gives the secret itself',
  },
  {
    key: 'insecurePeers',
    flag: 'insecure-peers',
    env: 'RAFT_INSECURE_PEERS',
    kind: 'bool',
    default: 'false',
    help: 'accept peer calls without a secret or certificate: anyone who reaches the gRPC port can rewrite the data',
  },
  {
    key: 'peerTlsCa',
    flag: 'peer-tls-ca',
    env: 'RAFT_PEER_TLS_CA',
    kind: 'string',
    default: '',
    help: 'mutual TLS between peers: the CA certificate (PEM) peers must be signed by (raft-otel certs makes them)',
  },
  {
    key: 'peerTlsCert',
    flag: 'peer-tls-cert',
    env: 'RAFT_PEER_TLS_CERT',
    kind: 'string',
    default: '',
    help: "mutual TLS: this node's certificate (PEM), whose CN is the node's id",
  },
  {
    key: 'peerTlsKey',
    flag: 'peer-tls-key',
    env: 'RAFT_PEER_TLS_KEY',
    kind: 'string',
    default: '',
    help: "mutual TLS: this node's private key (PEM)",
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
/** The cluster secret itself, for setups with environment only (no flag: a flag shows in `ps`). */
export const SECRET_ENV = 'RAFT_CLUSTER_SECRET';

/** Builds the peer security from the settings: a secret (file or variable) and/or mTLS, or an
 *  explicit --insecure-peers. Without any, the node refuses to start: an open peer port lets any
 *  process that reaches it replace the cluster's data. */
export function peerSecurity(cfg: NodeConfig, env: NodeJS.ProcessEnv): PeerSecurity {
  let secret: string | null = null;
  if (cfg.clusterSecretFile) {
    try {
      secret = readFileSync(cfg.clusterSecretFile, 'utf8').trim();
    } catch (e) {
      throw new Error(`cannot read the cluster secret file ${cfg.clusterSecretFile} (${(e as Error).message})`, {
        cause: e,
      });
    }
  } else if (env[SECRET_ENV]) secret = env[SECRET_ENV].trim();
  if (secret !== null && secret.length < MIN_SECRET_LENGTH)
    throw new Error(
      `the cluster secret is ${secret.length} characters; use at least ${MIN_SECRET_LENGTH} random ones (raft-otel secret --out FILE makes one)`,
    );
  const tlsParts = [cfg.peerTlsCa, cfg.peerTlsCert, cfg.peerTlsKey].filter(Boolean).length;
  if (tlsParts !== 0 && tlsParts !== 3)
    throw new Error('mutual TLS needs all three of --peer-tls-ca, --peer-tls-cert and --peer-tls-key');
  const tls = tlsParts === 3 ? loadPeerTls({ ca: cfg.peerTlsCa, cert: cfg.peerTlsCert, key: cfg.peerTlsKey }) : null;
  if (!secret && !tls && !cfg.insecurePeers)
    throw new Error(
      'peers are not authenticated: give the cluster secret with --cluster-secret-file FILE (or RAFT_CLUSTER_SECRET_FILE, ' +
        'or RAFT_CLUSTER_SECRET), or mutual TLS with --peer-tls-ca/--peer-tls-cert/--peer-tls-key. `raft-otel up` and the ' +
        'compose file set up a secret for you; `raft-otel secret --out FILE` makes one. Only on a network no one else ' +
        'can reach: --insecure-peers true. See README "Peer security"',
    );
  return { secret, tls };
}

/** The admin token in `file`: a file that cannot be read or is empty is an error, never an open
 *  admin API. */
function readAdminToken(file: string): string {
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new Error(`cannot read the admin token file ${file} (${(e as Error).message})`, { cause: e });
  }
  if (!token) throw new Error(`the admin token file ${file} is empty`);
  return token;
}

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

/** "host:port" split at its last colon; an error naming the address when the port is not one. */
export function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const port = Number(addr.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`"${addr}" is not host:port (e.g. 127.0.0.1:8001)`);
  return { host: addr.slice(0, i), port };
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
  cfg.security = peerSecurity(cfg, env);
  if (cfg.adminTokenFile) cfg.adminToken = readAdminToken(cfg.adminTokenFile);
  return cfg;
}

export function nodeOptionsHelp(): string {
  return NODE_OPTIONS.map(
    (o) => `  --${o.flag.padEnd(20)} ${o.env.padEnd(24)} ${o.help}${o.default ? ` (default ${o.default})` : ''}`,
  ).join('\n');
}

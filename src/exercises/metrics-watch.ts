// Metrics for a local cluster, the way Prometheus gets them: scrape each node at an interval and
// keep time series. In Docker the nodes push OTLP metrics to the collector and Prometheus scrapes
// that (raft_raft_term, raft_raft_leader_changes_total, ...); a local cluster has no collector, and
// its nodes export no metrics without an OTLP endpoint. What every node does serve is GET /status:
// the same values its gauges report (term, role, commit and applied index). This scrapes it, counts
// the changes of leader each node reports (a counter derived from the gauges, as Prometheus'
// `changes()` would), prints a line at each change, and serves the series in Prometheus' text format
// on http://127.0.0.1:9464/metrics, so a learner can see exercise 12's incident as metrics.
//
//   raft-otel metrics [--data-dir data] [--targets n1=127.0.0.1:8001,...] [--port 9464] [--interval-ms 1000]
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import type { Member } from '../check/control.js';

/** The part of GET /status the gauges read. */
export interface StatusView {
  role: string;
  term: number;
  leader: string | null;
  commitIndex: number;
  lastApplied: number;
}

/** One node's series: the last scrape, and what changed since the watch began. */
export interface NodeSeries {
  id: string;
  up: boolean;
  last: StatusView | null;
  /** Times the leader this node reports changed to another node (not to "none"). */
  leaderChanges: number;
  /** The last leader this node reported, kept across scrapes where it knew none. */
  lastLeader: string | null;
}

export interface Change {
  node: string;
  what: string;
}

/** Folds one scrape into a node's series; returns what changed, in words (for the live log). */
export function observe(s: NodeSeries, st: StatusView | null): Change[] {
  const changes: Change[] = [];
  if (!st) {
    if (s.up) changes.push({ node: s.id, what: 'stopped answering' });
    s.up = false;
    return changes;
  }
  if (!s.up && s.last) changes.push({ node: s.id, what: `answers again (${st.role}, term ${st.term})` });
  if (s.last && st.term !== s.last.term) changes.push({ node: s.id, what: `term ${s.last.term} -> ${st.term}` });
  if (s.last && st.role !== s.last.role) changes.push({ node: s.id, what: `role ${s.last.role} -> ${st.role}` });
  if (st.leader !== null && st.leader !== s.lastLeader) {
    if (s.lastLeader !== null) {
      s.leaderChanges++;
      changes.push({ node: s.id, what: `leader ${s.lastLeader} -> ${st.leader} (term ${st.term})` });
    }
    s.lastLeader = st.leader;
  }
  s.up = true;
  s.last = st;
  return changes;
}

const ROLES = ['follower', 'pre_candidate', 'candidate', 'leader'];

/** The series in Prometheus' text exposition format (version 0.0.4). */
export function prometheusText(series: NodeSeries[]): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, rows: [string, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows) out.push(`${name}{${labels}} ${v}`);
  };
  const node = (s: NodeSeries) => `node="${s.id}"`;
  const known = series.filter((s) => s.last);
  metric(
    'raft_up',
    'gauge',
    '1 when the node answered the last scrape of GET /status',
    series.map((s) => [node(s), s.up ? 1 : 0]),
  );
  metric(
    'raft_term',
    'gauge',
    "the node's current term",
    known.map((s) => [node(s), s.last!.term]),
  );
  metric(
    'raft_role',
    'gauge',
    'role: 0 follower, 1 pre-candidate, 2 candidate, 3 leader',
    known.map((s) => [`${node(s)},role="${s.last!.role}"`, ROLES.indexOf(s.last!.role)]),
  );
  metric(
    'raft_commit_index',
    'gauge',
    "the node's commit index",
    known.map((s) => [node(s), s.last!.commitIndex]),
  );
  metric(
    'raft_applied_index',
    'gauge',
    "the node's last applied index",
    known.map((s) => [node(s), s.last!.lastApplied]),
  );
  metric(
    'raft_leader_changes_observed_total',
    'counter',
    'times the leader this node reports changed, counted by the scraper since it started',
    series.map((s) => [node(s), s.leaderChanges]),
  );
  return out.join('\n') + '\n';
}

async function scrape(m: Member, timeoutMs: number): Promise<StatusView | null> {
  try {
    const r = await fetch(`http://${m.http}/status`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return null;
    const b = (await r.json()) as Partial<StatusView>;
    if (typeof b.term !== 'number' || typeof b.role !== 'string') return null;
    return {
      role: b.role,
      term: b.term,
      leader: typeof b.leader === 'string' ? b.leader : null,
      commitIndex: b.commitIndex ?? 0,
      lastApplied: b.lastApplied ?? 0,
    };
  } catch {
    return null;
  }
}

export interface Watch {
  series: NodeSeries[];
  server: Server;
  url: string;
  stop(): Promise<void>;
}

/** Scrapes `members` every `intervalMs` and serves /metrics on 127.0.0.1:`port` (0: any free port). */
export async function startWatch(
  members: Member[],
  opts: { port: number; intervalMs: number; log?: (line: string) => void },
): Promise<Watch> {
  const series: NodeSeries[] = members.map((m) => ({
    id: m.id,
    up: false,
    last: null,
    leaderChanges: 0,
    lastLeader: null,
  }));
  let busy = false;
  const round = async () => {
    if (busy) return; // a slow scrape is not stacked on another
    busy = true;
    try {
      const results = await Promise.all(members.map((m) => scrape(m, Math.min(opts.intervalMs, 1000))));
      const time = new Date().toISOString().slice(11, 23);
      results.forEach((st, i) => {
        for (const c of observe(series[i], st)) opts.log?.(`${time}  ${c.node}  ${c.what}`);
      });
    } finally {
      busy = false;
    }
  };
  await round();
  const timer = setInterval(() => void round(), opts.intervalMs);
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(prometheusText(series));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('metrics are at /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', resolve);
  });
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : opts.port}/metrics`;
  return {
    series,
    server,
    url,
    stop: async () => {
      clearInterval(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const watchHelp = `raft-otel metrics [--data-dir data] [--targets n1=127.0.0.1:8001,...] [--port 9464] [--interval-ms 1000]

Scrapes every node's GET /status and serves Prometheus-format metrics on http://127.0.0.1:9464/metrics.

--targets names the nodes' HTTP APIs directly (Docker: n1=127.0.0.1:8001,n2=127.0.0.1:8002,...).
It prints a line at each change of term, role or leader, and serves /metrics until Ctrl-C.
`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string', default: './data' },
      targets: { type: 'string' },
      port: { type: 'string', default: '9464' },
      'interval-ms': { type: 'string', default: '1000' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(watchHelp);
    return 0;
  }
  const port = Number(values.port);
  const intervalMs = Number(values['interval-ms']);
  if (!(Number.isInteger(port) && port >= 0 && port < 65536)) throw new Error(`--port: not a port: ${values.port}`);
  if (!(intervalMs >= 100)) throw new Error(`--interval-ms takes at least 100, not ${values['interval-ms']}`);
  let members: Member[];
  if (values.targets) {
    const { targetsControl } = await import('../check/control.js');
    members = targetsControl(values.targets).members();
  } else {
    const { readCluster } = await import('../cli/cluster-file.js');
    members = readCluster(values['data-dir']).nodes.map((n) => ({ id: n.id, http: n.http }));
  }
  const w = await startWatch(members, { port, intervalMs, log: (l) => console.log(l) });
  console.log(`scraping ${members.map((m) => `${m.id} (${m.http})`).join(', ')} every ${intervalMs} ms`);
  console.log(`metrics: ${w.url}   (Ctrl-C stops)`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await w.stop();
  return 0;
}

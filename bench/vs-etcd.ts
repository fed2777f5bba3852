// raft-otel against etcd, side by side in one run on this machine (issue 14's table and goals):
//   npm run bench -- --vs-etcd              the full run (about 12 minutes on a quiet machine)
//   npm run bench -- --vs-etcd --short      a quick look (about 3 minutes: 1 round of 4 s loads, 3 kills, memory 20 s)
//   options: --duration S (each load, default 10), --rounds N (the systems take turns, N rounds, medians;
//            default 3), --runs N (failover kills, default 10),
//            --rss-seconds S (memory under load, default 60), --profile DIR (also run raft-otel,
//            tracing off, 64 clients to every node in turn, under the CPU profiler; profiles in DIR,
//            summarised; --profile-tracing defaults|every profiles tracing on; --profile-clients N and
//            --profile-via all|leader|followers choose another load), --profile-only (just that),
//            --raft-only (raft-otel's rows and ratios alone: no etcd, failover or memory run; to measure
//            a change quickly)
// It installs etcd (apt-get install -y etcd-server) when /usr/bin/etcd is missing, starts 3 etcd
// members and three 3-node raft-otel clusters (tracing off, default sampling, every write traced) on
// loopback, lets their loads take turns round after round, and drives all of them with the same
// closed-loop generator (src/bench/closed-loop.ts): 100-byte values, 100 keys, each client sending to
// the nodes in turn. etcd is written through its HTTP/JSON gateway (POST /v3/kv/put), the HTTP/JSON
// counterpart of raft-otel's PUT /kv/{key}.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMs, freeBase, rssMiB, sleep, waitLeader, type BenchCluster } from '../src/bench/bench-cluster.js';
import { closedLoop, type ClosedLoopResult } from '../src/bench/closed-loop.js';
import { EtcdCluster, ensureEtcd } from '../src/bench/etcd-cluster.js';
import { fsyncFloor, grpcFloor } from '../src/bench/floor.js';
import { killLeader } from '../src/bench/kill-leader.js';
import { startOtlpSink, type OtlpSink } from '../src/bench/otlp-sink.js';
import { RaftOtelCluster } from '../src/bench/raft-cluster.js';
import { topSelfTime } from '../src/bench/cpu-profile.js';
import { fmtMs, summarize } from '../src/check/stats.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--vs-etcd'),
  options: {
    short: { type: 'boolean' },
    duration: { type: 'string' },
    runs: { type: 'string' },
    'rss-seconds': { type: 'string' },
    profile: { type: 'string' },
    'profile-only': { type: 'boolean' },
    'raft-only': { type: 'boolean' },
    'profile-tracing': { type: 'string' },
    'profile-clients': { type: 'string' },
    'profile-via': { type: 'string' },
    rounds: { type: 'string' },
  },
});
const num = (text: string | undefined, fallback: number, what: string) => {
  const n = text === undefined ? fallback : Number(text);
  if (!(n > 0)) throw new Error(`--${what} must be a number above 0, not "${text}"`);
  return n;
};
const durationMs = num(values.duration, values.short ? 4 : 10, 'duration') * 1000;
const runs = num(values.runs, values.short ? 3 : 10, 'runs');
const rounds = num(values.rounds, values.short ? 1 : 3, 'rounds');
const rssSeconds = num(values['rss-seconds'], values.short ? 20 : 60, 'rss-seconds');
const log = (line: string) => process.stderr.write(line + '\n');
const profileClients = num(values['profile-clients'], 64, 'profile-clients');
const profileVia = (values['profile-via'] ?? 'all') as Via;
if (!['all', 'leader', 'followers'].includes(profileVia))
  throw new Error(`--profile-via must be all, leader or followers, not "${profileVia}"`);

const root = mkdtempSync(join(tmpdir(), 'raft-vs-etcd-'));
/** Every write traced, whatever the default sampler would cap (a learner's setting). */
const EVERY_WRITE_ENV = { RAFT_SAMPLE_WRITES: '1', RAFT_TRACE_RATE: '0' };

type Via = 'all' | 'leader' | 'followers';

async function load(c: BenchCluster, clients: number, via: Via, ms = durationMs): Promise<ClosedLoopResult> {
  const leader = await waitLeader(c);
  const nodes = c
    .nodes()
    .filter((n) => via === 'all' || (via === 'leader' ? n.id === leader : n.id !== leader))
    .map((n) => n.http);
  const pids = c.nodes().map((n) => ({ id: n.id, pid: c.pid(n.id) }));
  const cpu0 = pids.map((p) => cpuMs(p.pid));
  const r = await closedLoop({ target: c.target, nodes, clients, durationMs: ms, valueBytes: 100, keys: 100 });
  const perWrite = pids.map(
    (p, i) =>
      `${p.id}${p.id === leader ? '*' : ''} ${((cpuMs(p.pid) - cpu0[i]) / Math.max(1, r.acknowledged)).toFixed(2)}`,
  );
  log(
    `  ${c.name}: ${String(clients).padStart(2)} clients to ${via === 'all' ? 'every node in turn' : via === 'leader' ? 'the leader' : 'the followers'}: ${r.throughput.toFixed(0)} writes/s, p50 ${fmtMs(r.latency.p50)}, p99 ${fmtMs(r.latency.p99)}, CPU ms per write ${perWrite.join(', ')} (* leader), failed ${r.failed}${
      r.failed
        ? ` (${Object.entries(r.errors)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ')})`
        : ''
    }`,
  );
  return r;
}

/** The least-squares slope of `ys`, one reading a second: MiB a second. */
function slope(ys: number[]): number {
  const n = ys.length;
  if (n < 2) return NaN;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

/** Loads the cluster (64 clients, every node in turn) for `seconds`, reading each node's RSS each second. */
async function memory(c: BenchCluster, seconds: number) {
  const nodes = c.nodes();
  const samples = new Map<string, number[]>(nodes.map((n) => [n.id, []]));
  const timer = setInterval(() => {
    for (const n of nodes) samples.get(n.id)!.push(rssMiB(c.pid(n.id)));
  }, 1000);
  const r = await load(c, 64, 'all', seconds * 1000);
  clearInterval(timer);
  const half = Math.floor(seconds / 2);
  return {
    throughput: r.throughput,
    nodes: nodes.map((n) => {
      const s = samples.get(n.id)!;
      const second = s.slice(half - 1);
      return {
        id: n.id,
        mid: s[half - 1] ?? NaN,
        end: s[s.length - 1] ?? NaN,
        max: Math.max(...s),
        mean: second.reduce((a, b) => a + b, 0) / second.length,
        // The trend over the second half: RSS saws up and down with each garbage collection (by
        // 10-20% under this load), so two readings measure where the saw was, not growth.
        trend: slope(second) * (second.length - 1),
      };
    }),
  };
}

/** Each cluster's warm-up, unmeasured: a light load, then the heavy one, so every node's hot paths
 *  (a follower's forward as much as the leader's) are compiled before any load is measured. Under
 *  64 clients a fresh cluster's throughput still climbs for 15-20 s (measured: 2,200, 4,300, 5,500,
 *  5,900, 6,000 writes/s in successive loads), and tracing's extra code takes longer to compile
 *  than the rest, so a short warm-up made tracing look dearer than it is. */
const warm = async (c: BenchCluster) => {
  await load(c, 8, 'all', 2000);
  await load(c, 64, 'all', values.short ? 8000 : 15000);
};

let n = 0;
async function raftOtel<T>(name: string, env: Record<string, string>, run: (c: BenchCluster) => Promise<T>) {
  // Fresh ports each time: another cluster on this machine may hold the usual ones.
  const base = await freeBase(41000, [0, 1, 2, 50, 51, 52]);
  log(`raft-otel 3 nodes, ${name} (HTTP ports ${base}-${base + 2}, gRPC ${base + 50}-${base + 52})`);
  const c = await RaftOtelCluster.start(
    `raft-otel (${name})`,
    join(root, `raft-${++n}`),
    { http: base, grpc: base + 50 },
    env,
  );
  try {
    await warm(c);
    return await run(c);
  } finally {
    await c.stop();
  }
}

/** Profiles every node of a raft-otel cluster (tracing off) under the load of the main row. */
async function profile(where: string) {
  const dir = resolve(where);
  mkdirSync(dir, { recursive: true });
  // With --profile-tracing defaults|every: tracing on (default sampling, or every write traced),
  // exported over OTLP/gRPC to a local sink.
  const tracing = values['profile-tracing'];
  if (tracing !== undefined && tracing !== 'defaults' && tracing !== 'every')
    throw new Error(`--profile-tracing must be defaults or every, not "${tracing}"`);
  const sink = tracing ? await startOtlpSink() : null;
  const env = {
    ...(sink
      ? {
          OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          ...(tracing === 'every' ? EVERY_WRITE_ENV : {}),
        }
      : { RAFT_TRACING: 'off' }),
    RAFT_BENCH_PROFILE_DIR: dir,
    NODE_OPTIONS: `--import=${pathToFileURL(resolve('bench/cpu-prof-preload.mjs')).href}`,
  };
  const roles = await raftOtel(
    `${tracing === 'every' ? 'every write traced' : tracing ? 'tracing on (defaults)' : 'tracing off'}, CPU profiles of every node, ${profileClients} clients via ${profileVia}`,
    env,
    async (c) => {
      const leader = await waitLeader(c);
      const nodes = c
        .nodes()
        .map((x) => ({ pid: c.pid(x.id), role: `${x.id} (${x.id === leader ? 'leader' : 'follower'})` }));
      for (const x of nodes) process.kill(x.pid, 'SIGUSR2'); // start profiling
      await load(c, profileClients, profileVia);
      for (const x of nodes) process.kill(x.pid, 'SIGUSR2'); // stop, write the profile
      await sleep(1000);
      return nodes;
    },
  );
  for (const { pid, role } of roles) {
    console.log(`\nprofile of ${role}: top self time (${dir}/CPU.${pid}.cpuprofile)`);
    console.log(topSelfTime(dir, pid, 20));
  }
  sink?.close();
}

// ---------------------------------------------------------------------------------------------
log(
  `data under ${root}; ${values.short ? 'short run' : 'full run'}: loads of ${durationMs / 1000} s, ${runs} kills, memory for ${rssSeconds} s`,
);
if (values['profile-only']) {
  if (!values.profile) throw new Error('--profile-only needs --profile DIR');
  await profile(values.profile);
  process.exit(0);
}
// --raft-only: raft-otel's rows alone (no etcd, no failover, no memory run), to measure a change quickly.
const raftOnly = values['raft-only'] === true;
const etcdBin = raftOnly ? '' : ensureEtcd(log);

log('floor: fsync of a small append on this disk, bare gRPC round trip between two processes');
const fsync = fsyncFloor(root);
const grpc = await grpcFloor();
const floorMs = fsync.p50 + grpc.serial.p50;
log(
  `  fdatasync p50 ${fmtMs(fsync.p50)}; gRPC unary p50 ${fmtMs(grpc.serial.p50)} (64 in flight: ${grpc.throughput64.toFixed(0)} calls/s)`,
);

// Every cluster runs for the whole comparison, and the loads take turns (etcd, then each raft-otel
// cluster, round after round; the table shows medians): this machine's speed drifts from minute to
// minute, and running one system after the other would measure the drift.
async function startEtcd(): Promise<BenchCluster | null> {
  if (raftOnly) return null;
  const etcdPort = await freeBase(23700, [0, 1, 2, 10, 11, 12]);
  log(
    `etcd 3 members (default timing; client ports ${etcdPort}-${etcdPort + 2}, peer ${etcdPort + 10}-${etcdPort + 12})`,
  );
  return EtcdCluster.start(join(root, 'etcd'), etcdPort, etcdBin);
}
const etcd = await startEtcd();
const sinkOn = await startOtlpSink();
const sinkEvery = await startOtlpSink();
const otlp = (sink: OtlpSink) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
const started: BenchCluster[] = etcd ? [etcd] : [];
async function startRaft(name: string, env: Record<string, string>): Promise<BenchCluster> {
  const base = await freeBase(41000, [0, 1, 2, 50, 51, 52]);
  log(`raft-otel 3 nodes, ${name} (HTTP ports ${base}-${base + 2}, gRPC ${base + 50}-${base + 52})`);
  const c = await RaftOtelCluster.start(
    `raft-otel (${name})`,
    join(root, `raft-${++n}`),
    { http: base, grpc: base + 50 },
    env,
  );
  started.push(c);
  return c;
}
const results = new Map<string, ClosedLoopResult[]>();
const run = async (key: string, c: BenchCluster, clients: number, via: Via) => {
  const r = await load(c, clients, via);
  results.set(`${c.name}|${key}`, [...(results.get(`${c.name}|${key}`) ?? []), r]);
};
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const med = (c: BenchCluster, key: string): ClosedLoopResult => {
  const rs = results.get(`${c.name}|${key}`)!;
  return {
    ...rs[0],
    throughput: median(rs.map((r) => r.throughput)),
    latency: { ...rs[0].latency, p50: median(rs.map((r) => r.latency.p50)) },
  };
};
let e: { all64: ClosedLoopResult; all1: ClosedLoopResult } | null = null;
let eFail: ReturnType<typeof summarize> | null = null;
let offFail: ReturnType<typeof summarize> | null = null;
let mem: Awaited<ReturnType<typeof memory>> | null = null;
let off, on, every;
try {
  const rOff = await startRaft('tracing off', { RAFT_TRACING: 'off' });
  const rOn = await startRaft('tracing on, default sampling', otlp(sinkOn));
  const rEvery = await startRaft('every write traced', { ...otlp(sinkEvery), ...EVERY_WRITE_ENV });
  for (const c of started) await warm(c);
  sinkOn.reset();
  sinkEvery.reset();
  for (let round = 1; round <= rounds; round++) {
    log(`round ${round} of ${rounds}`);
    for (const c of [etcd, rOff, rOn, rEvery]) if (c) await run('all64', c, 64, 'all');
    for (const c of [etcd, rOff, rOn]) if (c) await run('all1', c, 1, 'all');
    await run('leader64', rOff, 64, 'leader');
    await run('followers64', rOff, 64, 'followers');
    await run('leader1', rOff, 1, 'leader');
  }
  if (etcd) e = { all64: med(etcd, 'all64'), all1: med(etcd, 'all1') };
  off = {
    all64: med(rOff, 'all64'),
    all1: med(rOff, 'all1'),
    leader64: med(rOff, 'leader64'),
    followers64: med(rOff, 'followers64'),
    leader1: med(rOff, 'leader1'),
  };
  on = { all64: med(rOn, 'all64'), all1: med(rOn, 'all1'), bytes: sinkOn.spanBytes() };
  every = { all64: med(rEvery, 'all64'), bytes: sinkEvery.spanBytes() };
  await rOn.stop();
  await rEvery.stop();
  if (etcd) {
    // Failover, the two systems in turn, one kill each at a time.
    const eKills: number[] = [];
    const oKills: number[] = [];
    for (let i = 0; i < runs; i++) {
      eKills.push(...(await killLeader(etcd, 1, log)).runs);
      oKills.push(...(await killLeader(rOff, 1, log)).runs);
    }
    eFail = summarize(eKills);
    offFail = summarize(oKills);
    await etcd.stop();
    mem = await memory(rOff, rssSeconds);
  }
} finally {
  for (const c of started) await c.stop();
  sinkOn.close();
  sinkEvery.close();
}

if (values.profile) await profile(values.profile);

// ---------------------------------------------------------------------------------------------
const tput = (r: ClosedLoopResult) => r.throughput.toFixed(0).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const p50 = (r: ClosedLoopResult) => r.latency.p50.toFixed(2);
const row = (label: string, ...cells: string[]) => `| ${label} | ${cells.join(' | ')} |`;
const lines = [
  '',
  `raft-otel ${e ? 'vs etcd 3.4' : '(--raft-only: no etcd)'}, 3 nodes each on loopback, default timing, 100-byte values, one closed-loop generator`,
  `(loads of ${durationMs / 1000} s, medians of ${rounds} interleaved rounds${e ? '; etcd through its HTTP/JSON gateway POST /v3/kv/put' : ''})`,
  '',
  row('', 'etcd', 'raft-otel, tracing off', 'raft-otel, tracing on (defaults)', 'raft-otel, every write traced'),
  row('---', '---', '---', '---', '---'),
  row(
    'writes/s, 64 clients, to every node in turn',
    e ? tput(e.all64) : '',
    tput(off.all64),
    tput(on.all64),
    tput(every.all64),
  ),
  row('writes/s, 64 clients, to the leader only', '', tput(off.leader64), '', ''),
  row('writes/s, 64 clients, to followers only', '', tput(off.followers64), '', ''),
  row('p50 ms, 1 client, to every node in turn', e ? p50(e.all1) : '', p50(off.all1), p50(on.all1), ''),
  row('p50 ms, 1 client, to the leader only', '', p50(off.leader1), '', ''),
  ...(eFail && offFail
    ? [
        row(
          `failover ms (kill -9 of the leader to the next acknowledged write), median of ${runs}`,
          eFail.p50.toFixed(0),
          offFail.p50.toFixed(0),
          '',
          '',
        ),
      ]
    : []),
  row('MB of spans exported', '', '0', (on.bytes / 1e6).toFixed(1), (every.bytes / 1e6).toFixed(1)),
  '',
  `floor: fdatasync of a small append p50 ${fsync.p50.toFixed(2)} ms + bare gRPC unary round trip p50 ${grpc.serial.p50.toFixed(2)} ms = ${floorMs.toFixed(2)} ms`,
  ...(mem
    ? [
        `memory (RSS) under 64 clients for ${rssSeconds} s (${tput({ throughput: mem.throughput } as ClosedLoopResult)} writes/s), at ${Math.floor(rssSeconds / 2)} s -> ${rssSeconds} s:`,
        ...mem.nodes.map(
          (m) =>
            `  ${m.id}: ${m.mid.toFixed(1)} MiB -> ${m.end.toFixed(1)} MiB, max ${m.max.toFixed(1)} MiB; over the second half: mean ${m.mean.toFixed(1)} MiB, trend ${m.trend >= 0 ? '+' : ''}${m.trend.toFixed(1)} MiB (${((m.trend / m.mean) * 100).toFixed(1)}%)`,
        ),
      ]
    : []),
  '',
  'goals (issue 14):',
];
/** One goal of issue 14: a ratio, and the bound it must stay within. */
const goal = (what: string, ratio: number, bound: '>=' | '<=' | '<', target: number) => {
  const ok = bound === '>=' ? ratio >= target : bound === '<=' ? ratio <= target : ratio < target;
  lines.push(`  ${ok ? 'MET ' : 'MISS'} ${what}: ${ratio.toFixed(2)} (goal ${bound} ${target})`);
};
if (e) {
  goal(
    '64 clients, every node in turn, tracing on (defaults) / etcd',
    on.all64.throughput / e.all64.throughput,
    '>=',
    1.5,
  );
  goal('64 clients, every node in turn, tracing off / etcd', off.all64.throughput / e.all64.throughput, '>=', 1.5);
}
goal('64 clients, followers only / leader only', off.followers64.throughput / off.leader64.throughput, '>=', 0.9);
if (e) {
  goal(
    'p50, 1 client, every node in turn, tracing on (defaults) / etcd',
    on.all1.latency.p50 / e.all1.latency.p50,
    '<=',
    0.8,
  );
  goal('p50, 1 client, every node in turn, tracing off / etcd', off.all1.latency.p50 / e.all1.latency.p50, '<=', 0.8);
}
goal('p50, 1 client, leader only / floor', off.leader1.latency.p50 / floorMs, '<=', 1.3);
goal('throughput, tracing on (defaults) / tracing off', on.all64.throughput / off.all64.throughput, '>=', 0.95);
goal('throughput, every write traced / tracing off', every.all64.throughput / off.all64.throughput, '>=', 0.75);
if (eFail && offFail) goal('failover median, raft-otel / etcd', offFail.p50 / eFail.p50, '<', 1);
if (mem) {
  const worst = Math.max(...mem.nodes.map((m) => m.trend / m.mean));
  // At most 5%: no growth beyond noise.
  goal(
    `RSS trend between ${Math.floor(rssSeconds / 2)} s and ${rssSeconds} s (least squares, one reading a second), worst node, fraction of its mean`,
    worst,
    '<=',
    0.05,
  );
}
console.log(lines.join('\n'));
rmSync(root, { recursive: true, force: true });

// What one traced write costs, in figures: spans, attributes, events and links per write (across
// all nodes), protobuf bytes exported per write, and the nodes' CPU per write, with tracing off,
// with every write traced (RAFT_TRACE_RATE=0) and with the default sampling. The nodes export over
// OTLP/HTTP protobuf to a sink in this process, which decodes and counts what arrives.
//
// The load is paced (--rate writes a second, from --clients concurrent clients, to the leader), so
// every mode does the same work in the same time: CPU per write is then comparable across modes
// (a closed loop would give each mode a different throughput, and fixed costs such as heartbeats
// would weigh differently per write). The machine's other load still moves the figures: compare
// modes within one run, and use --rounds.
//
//   npm run bench:trace-cost [-- --rate 150 --clients 16 --duration 10 --rounds 1 --modes off,every,default,file]
//
// Each measurement runs on a fresh 3-node cluster (compiled code, `raft-otel up`) in a temporary
// directory, on loopback ports reserved as the tests reserve theirs (so it runs beside other
// clusters). It is a script, not a test.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { perform } from '../src/check/client.js';
import { findLeader, type ClusterControl } from '../src/check/control.js';
import { summarize } from '../src/check/stats.js';
import { readCluster } from '../src/cli/cluster-file.js';
import { localControl } from '../src/cli/local-control.js';
import { releasePorts, reservePorts } from '../test/support/ports.js';
import { messages, str } from '../test/telemetry/protobuf.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '150' },
    clients: { type: 'string', default: '16' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    modes: { type: 'string', default: 'off,every,default,file' },
  },
});
const rate = Number(values.rate);
const clients = Number(values.clients);
const durationMs = Number(values.duration) * 1000;

/** What the sink has counted since the last reset. */
const seen = {
  requests: 0,
  bytes: 0,
  spans: 0,
  attributes: 0,
  events: 0,
  links: 0,
  byName: new Map<string, number[]>(),
};
function reset(): void {
  Object.assign(seen, { requests: 0, bytes: 0, spans: 0, attributes: 0, events: 0, links: 0, byName: new Map() });
}

const sink = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    if (req.url !== '/v1/traces') return;
    const body = Buffer.concat(chunks);
    seen.requests++;
    seen.bytes += body.length;
    // ExportTraceServiceRequest > ResourceSpans(1) > ScopeSpans(2) > Span(2): name 5, attributes 9,
    // events 11, links 13.
    for (const span of messages(body, [1, 2, 2])) {
      const attrs = span.get(9)?.length ?? 0;
      seen.spans++;
      seen.attributes += attrs;
      seen.events += span.get(11)?.length ?? 0;
      seen.links += span.get(13)?.length ?? 0;
      const name = str(span, 5) ?? '?';
      const [n, a] = seen.byName.get(name) ?? [0, 0];
      seen.byName.set(name, [n + 1, a + attrs]);
    }
  });
});
sink.listen(0, '127.0.0.1');
await new Promise((r) => sink.once('listening', r));
const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };

const MODES: Record<string, { label: string; env: Record<string, string> }> = {
  off: { label: 'tracing off', env: { RAFT_TRACING: 'off' } },
  every: { label: 'every write traced', env: { ...otlp, RAFT_TRACE_RATE: '0' } },
  default: { label: 'default sampling', env: otlp },
  // No endpoint: `up` points each node at <node dir>/traces, OTLP JSON lines (the `npm start` default).
  file: { label: 'every write traced, JSON files', env: { RAFT_TRACE_RATE: '0' } },
};

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Writes of 100 bytes to the leader at `rate` a second (as far as the cluster keeps up) for `ms`. */
async function paced(control: ClusterControl, ms: number): Promise<{ ops: number; p50: number }> {
  const leader = await findLeader(control, 5000);
  const http = control.members().find((m) => m.id === leader)?.http;
  if (!http) throw new Error('no leader to write to');
  const t0 = performance.now();
  const latencies: number[] = [];
  let next = 0;
  const value = 'x'.repeat(100);
  const client = async () => {
    for (;;) {
      const i = next++;
      const due = t0 + (i * 1000) / rate;
      if (due >= t0 + ms) return;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const out = await perform(http, { kind: 'write', key: `bench-${i % 100}`, value }, 5000);
      if (out.status === 'ok') latencies.push(out.latencyMs);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { ops: latencies.length, p50: summarize(latencies).p50 };
}

interface Result {
  writes: number;
  throughput: number;
  cpuMsPerWrite: number;
  p50: number;
}

async function measure(env: Record<string, string>): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), 'raft-trace-cost-'));
  const [http, grpc] = [await reservePorts(3, true), await reservePorts(3, true)];
  const up = spawn(
    process.execPath,
    [
      resolve('bin/raft-otel.mjs'),
      'up',
      '--data-dir',
      dataDir,
      '--http-port',
      `${http[0]}`,
      '--grpc-port',
      `${grpc[0]}`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } },
  );
  let log = '';
  up.stdout.on('data', (d: Buffer) => (log += d.toString()));
  const startDeadline = Date.now() + 60_000;
  while (!/Leader elected/.test(log)) {
    if (Date.now() > startDeadline || up.exitCode !== null) throw new Error(`the cluster did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const control = localControl(dataDir);
  const load = (ms: number) => paced(control, ms);
  try {
    await load(3000); // warm-up: JIT, connections; and the default sampler's burst is spent here
    const pids = readCluster(dataDir).nodes.map((n) => n.pid);
    // Let the warm-up's spans reach the sink (the batch processor exports every 5 s at most).
    await new Promise((r) => setTimeout(r, 5500));
    reset();
    const cpu0 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
    const r = await load(durationMs);
    const cpu1 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
    // The spans of the measured writes arrive up to one schedule delay later.
    await new Promise((r) => setTimeout(r, 5500));
    return {
      writes: r.ops,
      throughput: r.ops / (durationMs / 1000),
      cpuMsPerWrite: ((cpu1 - cpu0) * 1000) / r.ops,
      p50: r.p50,
    };
  } finally {
    up.kill('SIGINT');
    await new Promise((r) => up.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
    releasePorts([...http, ...grpc]);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const modes = values.modes.split(',');
for (const m of modes) if (!MODES[m]) throw new Error(`--modes: unknown mode ${m} (off, every, default, file)`);
const rows = new Map<string, { r: Result; spans: typeof seen }[]>(modes.map((m) => [m, []]));
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const m of modes) {
    reset();
    const r = await measure(MODES[m].env);
    rows.get(m)!.push({ r, spans: { ...seen, byName: new Map(seen.byName) } });
    console.error(
      `round ${round}, ${MODES[m].label}: ${r.throughput.toFixed(0)} writes/s, ${r.cpuMsPerWrite.toFixed(3)} ms CPU/write`,
    );
  }
}
sink.close();

console.log(
  `\n${clients} clients writing to the leader for ${values.duration} s, median of ${values.rounds} round(s):`,
);
console.log(
  'mode                             writes/s  p50 ms  CPU ms/write  spans/write  attrs/write  events/write  links/write  bytes/write',
);
for (const m of modes) {
  const runs = rows.get(m)!;
  const pick = (f: (x: { r: Result; spans: typeof seen }) => number) => median(runs.map(f));
  const per = (f: (s: typeof seen) => number) => pick((x) => f(x.spans) / x.r.writes);
  const exported = m === 'every' || m === 'default';
  const col = (v: number, digits: number, width: number) => (exported ? v.toFixed(digits) : '-').padStart(width);
  console.log(
    `${MODES[m].label.padEnd(32)} ${pick((x) => x.r.throughput)
      .toFixed(0)
      .padStart(8)} ${pick((x) => x.r.p50)
      .toFixed(1)
      .padStart(7)} ${pick((x) => x.r.cpuMsPerWrite)
      .toFixed(3)
      .padStart(13)}` +
      ` ${col(
        per((s) => s.spans),
        2,
        12,
      )} ${col(
        per((s) => s.attributes),
        1,
        12,
      )} ${col(
        per((s) => s.events),
        2,
        13,
      )} ${col(
        per((s) => s.links),
        2,
        12,
      )} ${col(
        per((s) => s.bytes),
        0,
        12,
      )}`,
  );
}
for (const m of modes.filter((x) => x === 'every' || x === 'default')) {
  const run = rows.get(m)![0];
  console.log(`\n${MODES[m].label}, by span (per write, across the three nodes; round 1):`);
  const byName = [...run.spans.byName.entries()].sort((a, b) => b[1][0] - a[1][0]);
  for (const [name, [n, a]] of byName) {
    console.log(
      `  ${name.padEnd(28)} ${(n / run.r.writes).toFixed(3).padStart(7)} spans  ${(a / Math.max(n, 1)).toFixed(1).padStart(5)} attributes each`,
    );
  }
}

// How many spans per second the built-in viewer takes in while a cluster runs under load: a real
// `raft-otel up` (3 nodes, the viewer in up's process, the nodes exporting to it), a write load on
// the cluster, and OTLP/HTTP JSON requests of SDK-shaped spans posted to the viewer as fast as it
// answers. Prints the spans/s it stored (goal: >= 20,000), the cluster's own spans/s and writes/s,
// and how long the viewer took to answer a query meanwhile (its event loop stays responsive).
//   npm run bench:viewer-ingest
//   npm run bench:viewer-ingest -- --duration 10 --senders 4 --batch 512 --clients 16
// Everything runs on free loopback ports in a temporary data dir, removed at the end; every process
// started here is stopped before the script exits, also on Ctrl-C or an error.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { runLoad } from '../src/bench/load.js';
import { localControl } from '../src/cli/local-control.js';
import { consecutiveFreePorts } from '../src/cli/ports.js';
import { toOtlp, type FlatSpan } from '../src/traces/otlp.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    senders: { type: 'string', default: '4' },
    batch: { type: 'string', default: '512' },
    clients: { type: 'string', default: '16' },
  },
});
const DURATION_MS = Math.max(1, Number(values.duration) || 10) * 1000;
const SENDERS = Math.max(1, Number(values.senders) || 4);
const BATCH = Math.max(1, Number(values.batch) || 512);
const CLIENTS = Math.max(1, Number(values.clients) || 16);

const dataDir = mkdtempSync(join(tmpdir(), 'raft-viewer-bench-'));
let up: ChildProcess | null = null;

async function stop(): Promise<void> {
  if (up && up.exitCode === null) {
    const exited = new Promise((r) => up!.once('exit', r));
    try {
      process.kill(-up.pid!, 'SIGINT'); // up stops its nodes and its viewer
    } catch {
      /* gone */
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    try {
      process.kill(-up.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
}
process.once('SIGINT', () => void stop().then(() => process.exit(130)));

/** A write trace's spans as a node exports them (HTTP request, propose, persist, commit, apply on
 *  three nodes, the AppendEntries pair per follower), `BATCH` spans per request. The trace ids share
 *  a 24-digit prefix, replaced per request so every request carries new traces. */
function template(prefix: string): string {
  const spans: FlatSpan[] = [];
  const now = Date.now();
  const names: [string, FlatSpan['kind'], string][] = [
    ['PUT /kv/{key}', 'SERVER', 'n1'],
    ['raft.propose', 'INTERNAL', 'n1'],
    ['raft.persist', 'INTERNAL', 'n1'],
    ['raft.Raft/AppendEntries', 'CLIENT', 'n1'],
    ['raft.Raft/AppendEntries', 'SERVER', 'n2'],
    ['raft.Raft/AppendEntries', 'CLIENT', 'n1'],
    ['raft.Raft/AppendEntries', 'SERVER', 'n3'],
    ['raft.commit', 'INTERNAL', 'n1'],
    ['raft.apply', 'INTERNAL', 'n1'],
    ['raft.apply', 'INTERNAL', 'n2'],
    ['raft.apply', 'INTERNAL', 'n3'],
  ];
  for (let i = 0; spans.length < BATCH; i++) {
    const traceId = prefix + i.toString(16).padStart(8, '0');
    const root = (i * 16 + 1).toString(16).padStart(16, '0');
    names.slice(0, BATCH - spans.length).forEach(([name, kind, node], j) => {
      spans.push({
        traceId,
        spanId: j === 0 ? root : (i * 16 + j + 1).toString(16).padStart(16, '0'),
        ...(j === 0 ? {} : { parentSpanId: root }),
        name,
        kind,
        service: `raft-${node}`,
        nodeId: node,
        startMs: now + i + j * 0.1,
        endMs: now + i + j * 0.1 + 0.5,
        attributes: {
          'raft.node.id': node,
          'raft.trace.kind': 'write',
          'raft.term': 3,
          'raft.log.index': 1000 + i,
          'raft.key': `key-${i % 100}`,
          'rpc.system.name': 'grpc',
          'server.address': '127.0.0.1',
          'server.port': 7002,
        },
        events: j === 3 ? [{ name: 'appended', timeMs: now + i, attributes: { 'raft.entries.count': 1 } }] : [],
        links: [],
        status: { code: 'UNSET' },
        resource: { 'service.name': `raft-${node}`, 'service.namespace': 'raft-otel', 'service.instance.id': node },
      });
    });
  }
  return JSON.stringify(toOtlp(spans));
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. On a
 *  machine shared with other work, spans per CPU-second of the viewer's process says what one free
 *  core would take in, which wall-clock spans/s cannot. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / ticks; // utime, stime
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  const [http, grpc, viewerPort] = [
    await consecutiveFreePorts(3),
    await consecutiveFreePorts(3),
    await consecutiveFreePorts(1),
  ];
  up = spawn(
    process.execPath,
    [
      resolve('bin/raft-otel.mjs'),
      'up',
      '--data-dir',
      dataDir,
      '--http-port',
      String(http),
      '--grpc-port',
      String(grpc),
      '--viewer-port',
      String(viewerPort),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let log = '';
  up.stdout!.on('data', (d) => (log += d));
  up.stderr!.on('data', (d) => (log += d));
  const t0 = Date.now();
  while (!/Leader elected/.test(log)) {
    if (up.exitCode !== null || Date.now() - t0 > 60_000) throw new Error(`up did not elect a leader:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /Viewer: (http:\/\/\S+)/.exec(log)?.[1];
  if (!url) throw new Error(`up started no viewer:\n${log}`);
  const stats = async () =>
    (await (await fetch(`${url}/api/viewer/stats`)).json()) as {
      spans: number;
      evictedSpans: number;
      received: { spans: number };
    };

  const prefix = randomBytes(12).toString('hex');
  const body = template(prefix);
  console.log(
    `viewer ${url}; ${SENDERS} senders x ${BATCH} spans per request (${(body.length / 1024).toFixed(0)} KiB); ` +
      `cluster load: ${CLIENTS} clients writing; ${DURATION_MS / 1000} s`,
  );

  const control = localControl(dataDir);
  const before = await stats();
  const cpu0 = cpuSeconds(up.pid!);
  const start = performance.now();
  const deadline = start + DURATION_MS;
  let flooded = 0;
  let failed = 0;
  const sender = async () => {
    while (performance.now() < deadline) {
      const payload = body.replaceAll(prefix, randomBytes(12).toString('hex'));
      const r = await fetch(`${url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
      });
      await r.arrayBuffer();
      if (r.ok) flooded += BATCH;
      else failed++;
    }
  };
  const latencies: number[] = [];
  const prober = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      await fetch(`${url}/api/viewer/search?kind=election&limit=5`).then((r) => r.arrayBuffer());
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const [load] = await Promise.all([
    runLoad({
      control,
      clients: CLIENTS,
      durationMs: DURATION_MS,
      mix: { put: 1, get: 0, cas: 0 },
      keys: 100,
      valueBytes: 100,
      consistency: 'linearizable',
      via: 'leader',
    }),
    ...Array.from({ length: SENDERS }, sender),
    prober(),
  ]);
  const seconds = (performance.now() - start) / 1000;
  // The nodes' last batches arrive within their export delay (500 ms under up).
  await new Promise((r) => setTimeout(r, 1500));
  const after = await stats();
  const cpu = cpuSeconds(up.pid!) - cpu0;
  const stored = after.received.spans - before.received.spans;
  const fromCluster = stored - flooded;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  console.log(`spans stored by the viewer: ${(stored / seconds).toFixed(0)} spans/s (goal >= 20000)`);
  console.log(
    `  per CPU-second of the viewer's process (up, which runs it): ${(stored / cpu).toFixed(0)} spans ` +
      `(${cpu.toFixed(1)} CPU-s in ${seconds.toFixed(1)} s; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)`,
  );
  console.log(`  posted by the senders:    ${(flooded / seconds).toFixed(0)} spans/s (${failed} requests refused)`);
  console.log(`  exported by the nodes:    ${(fromCluster / seconds).toFixed(0)} spans/s`);
  console.log(`  cluster writes meanwhile: ${load.throughput.toFixed(0)} ops/s`);
  console.log(
    `  viewer search latency meanwhile: p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms, max ${(latencies.at(-1) ?? NaN).toFixed(1)} ms`,
  );
  console.log(`  in memory at the end: ${after.spans} spans (${after.evictedSpans} evicted, caps apply)`);
}

main().then(
  () => stop(),
  async (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    await stop();
    process.exitCode = 1;
  },
);

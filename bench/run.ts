// The reference figures, in one command. Each measurement runs on a fresh 3-node cluster in a
// temporary directory.
//   npm run bench                              writes with 1, 16 and 64 clients, then failover
//   npm run bench -- --tracing-overhead        tracing off / default sampling / everything sampled
//   npm run bench -- --vs-etcd [--short]       side by side with etcd (see bench/vs-etcd.ts)
//   options: --duration S (default 10), --runs N (failover kills, default 10), --clients 1,16,64,
//            --rounds N (tracing overhead: interleaved rounds, default 3)
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runFailover } from '../src/bench/failover.js';
import { runLoad, type LoadResult } from '../src/bench/load.js';
import { startOtlpSink } from '../src/bench/otlp-sink.js';
import { fmtMs, fmtSummary } from '../src/check/stats.js';
import type { ClusterControl } from '../src/check/control.js';
import { localControl } from '../src/cli/local-control.js';

if (process.argv.includes('--vs-etcd')) {
  await import('./vs-etcd.js');
  process.exit(0);
}

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    runs: { type: 'string', default: '10' },
    clients: { type: 'string', default: '1,16,64' },
    'tracing-overhead': { type: 'boolean' },
    rounds: { type: 'string', default: '3' },
  },
});
const durationMs = Number(values.duration) * 1000;

async function withCluster<T>(env: Record<string, string>, run: (control: ClusterControl) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'raft-bench-'));
  const up = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      resolve('src/cli/main.ts'),
      'up',
      '--data-dir',
      dataDir,
      '--http-port',
      '18001',
      '--grpc-port',
      '17001',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    },
  );
  let log = '';
  up.stdout.on('data', (d) => (log += d));
  while (!/Leader elected/.test(log)) await new Promise((r) => setTimeout(r, 100));
  const control = localControl(dataDir);
  try {
    // Warm up (JIT, connections) before measuring.
    await runLoad({
      control,
      clients: 8,
      durationMs: 3000,
      mix: { put: 1, get: 0, cas: 0 },
      keys: 100,
      valueBytes: 100,
      consistency: 'linearizable',
      via: 'leader',
    });
    return await run(control);
  } finally {
    up.kill('SIGINT');
    await new Promise((r) => up.once('exit', r));
  }
}

const writes = (control: ClusterControl, clients: number): Promise<LoadResult> =>
  runLoad({
    control,
    clients,
    durationMs,
    mix: { put: 1, get: 0, cas: 0 },
    keys: 100,
    valueBytes: 100,
    consistency: 'linearizable',
    via: 'leader',
    progress: (l) => process.stderr.write(l + '\n'),
  });

if (values['tracing-overhead']) {
  const sink = await startOtlpSink();
  const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
  const modes: [string, Record<string, string>][] = [
    ['tracing off', { RAFT_TRACING: 'off' }],
    ['tracing on, default sampling', otlp],
    ['everything sampled, heartbeats too', { ...otlp, RAFT_SAMPLE_HEARTBEATS: '1', RAFT_TRACE_RATE: '0' }],
  ];
  const clients = Number(values.clients.split(',').pop());
  // This machine's speed drifts from minute to minute: run the modes interleaved, several rounds,
  // and compare medians.
  const rounds = Number(values.rounds);
  const results = new Map<string, { tput: number[]; p50: number[]; bytes: number[] }>(
    modes.map(([m]) => [m, { tput: [], p50: [], bytes: [] }]),
  );
  for (let round = 1; round <= rounds; round++) {
    for (const [mode, env] of modes) {
      sink.reset();
      const r = await withCluster(env, (control) => writes(control, clients));
      const res = results.get(mode)!;
      res.tput.push(r.throughput);
      res.p50.push(r.overall.p50);
      res.bytes.push(sink.spanBytes());
      console.log(
        `round ${round}, ${mode}: ${r.throughput.toFixed(0)} writes/s, ${fmtSummary(r.overall)}, ${(sink.spanBytes() / 1e6).toFixed(1)} MB of spans exported`,
      );
    }
  }
  sink.close();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = results.get(modes[0][0])!;
  console.log(
    `\ntracing overhead, ${clients} clients writing for ${values.duration} s, median of ${rounds} interleaved rounds (OTLP/gRPC to a local sink):`,
  );
  for (const [mode] of modes) {
    const r = results.get(mode)!;
    console.log(
      `  ${mode.padEnd(36)} ${median(r.tput).toFixed(0).padStart(5)} writes/s (${((median(r.tput) / median(base.tput)) * 100).toFixed(0)}% of off), p50 ${fmtMs(median(r.p50))} (x${(median(r.p50) / median(base.p50)).toFixed(2)}), ${(median(r.bytes) / 1e6).toFixed(1)} MB of spans`,
    );
  }
} else {
  const rows: string[] = [];
  await withCluster({}, async (control) => {
    for (const clients of values.clients.split(',').map(Number)) {
      const r = await writes(control, clients);
      rows.push(
        `writes, ${String(clients).padStart(2)} clients: ${r.throughput.toFixed(0).padStart(5)} writes/s, ${fmtSummary(r.overall)}, errors ${Object.values(r.errors).reduce((a, b) => a + b, 0)}`,
      );
      console.log(rows[rows.length - 1]);
    }
    const f = await runFailover(control, Number(values.runs), (l) => process.stderr.write(l + '\n'));
    rows.push(
      `failover (${values.runs} kills): kill -> new leader ${fmtSummary(f.toLeader)}, mean ${fmtMs(f.toLeader.mean)}`,
    );
    rows.push(
      `failover (${values.runs} kills): kill -> next acknowledged write ${fmtSummary(f.toWrite)}, mean ${fmtMs(f.toWrite.mean)}`,
    );
  });
  console.log('\n' + rows.join('\n'));
}

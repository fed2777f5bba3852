// The reference figures, in one command. Each measurement runs on a fresh 3-node cluster in a
// temporary directory.
//   npm run bench                              writes with 1, 16 and 64 clients, then failover
//   npm run bench -- --tracing-overhead        tracing off / default sampling / everything sampled
//   options: --duration S (default 10), --runs N (failover kills, default 10), --clients 1,16,64
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runFailover } from '../src/bench/failover.js';
import { runLoad, type LoadResult } from '../src/bench/load.js';
import { fmtMs, fmtSummary } from '../src/check/stats.js';
import type { ClusterControl } from '../src/check/control.js';
import { localControl } from '../src/cli/local-control.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    runs: { type: 'string', default: '10' },
    clients: { type: 'string', default: '1,16,64' },
    'tracing-overhead': { type: 'boolean' },
  },
});
const durationMs = Number(values.duration) * 1000;

async function withCluster<T>(env: Record<string, string>, run: (control: ClusterControl) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'raft-bench-'));
  const up = spawn(process.execPath, ['--import', 'tsx', resolve('src/cli/main.ts'), 'up', '--data-dir', dataDir, '--http-port', '18001', '--grpc-port', '17001'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let log = '';
  up.stdout!.on('data', (d) => (log += d));
  while (!/Leader elected/.test(log)) await new Promise((r) => setTimeout(r, 100));
  const control = localControl(dataDir);
  try {
    // Warm up (JIT, connections) before measuring.
    await runLoad({ control, clients: 8, durationMs: 3000, mix: { put: 1, get: 0, cas: 0 }, keys: 100, valueBytes: 100, consistency: 'linearizable', via: 'leader' });
    return await run(control);
  } finally {
    up.kill('SIGINT');
    await new Promise((r) => up.once('exit', r));
  }
}

const writes = (control: ClusterControl, clients: number): Promise<LoadResult> =>
  runLoad({ control, clients, durationMs, mix: { put: 1, get: 0, cas: 0 }, keys: 100, valueBytes: 100, consistency: 'linearizable', via: 'leader', progress: (l) => process.stderr.write(l + '\n') });

if (values['tracing-overhead']) {
  // An OTLP/HTTP sink that counts what it receives, so the nodes really export.
  let spans = 0;
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') spans += (Buffer.concat(chunks).toString().match(/"spanId"/g) ?? []).length;
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((ok) => sink.listen(0, '127.0.0.1', ok));
  const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as { port: number }).port}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' };
  const modes: [string, Record<string, string>][] = [
    ['tracing off', { RAFT_TRACING: 'off' }],
    ['tracing on, default sampling', otlp],
    ['everything sampled, heartbeats too', { ...otlp, RAFT_SAMPLE_HEARTBEATS: '1' }],
  ];
  const clients = Number(values.clients!.split(',').pop());
  const rows: { mode: string; r: LoadResult; spans: number }[] = [];
  for (const [mode, env] of modes) {
    spans = 0;
    const r = await withCluster(env, (control) => writes(control, clients));
    rows.push({ mode, r, spans });
    console.log(`${mode}: ${r.throughput.toFixed(0)} writes/s, ${fmtSummary(r.overall)}, ${spans} spans exported`);
  }
  sink.close();
  console.log(`\ntracing overhead, ${clients} clients writing for ${values.duration} s (OTLP/HTTP JSON to a local sink):`);
  for (const { mode, r, spans: n } of rows) {
    console.log(
      `  ${mode.padEnd(36)} ${r.throughput.toFixed(0).padStart(5)} writes/s (${((r.throughput / rows[0].r.throughput) * 100).toFixed(0)}% of off), p50 ${fmtMs(r.overall.p50)} (x${(r.overall.p50 / rows[0].r.overall.p50).toFixed(2)}), ${n} spans`,
    );
  }
} else {
  const rows: string[] = [];
  await withCluster({}, async (control) => {
    for (const clients of values.clients!.split(',').map(Number)) {
      const r = await writes(control, clients);
      rows.push(`writes, ${String(clients).padStart(2)} clients: ${r.throughput.toFixed(0).padStart(5)} writes/s, ${fmtSummary(r.overall)}, errors ${Object.values(r.errors).reduce((a, b) => a + b, 0)}`);
      console.log(rows[rows.length - 1]);
    }
    const f = await runFailover(control, Number(values.runs), (l) => process.stderr.write(l + '\n'));
    rows.push(`failover (${values.runs} kills): kill -> new leader ${fmtSummary(f.toLeader)}, mean ${fmtMs(f.toLeader.mean)}`);
    rows.push(`failover (${values.runs} kills): kill -> next acknowledged write ${fmtSummary(f.toWrite)}, mean ${fmtMs(f.toWrite.mean)}`);
  });
  console.log('\n' + rows.join('\n'));
}

// The reference figures, in one command: starts a fresh 3-node cluster in a temporary directory,
// measures write throughput and latency with 1, 16 and 64 clients, then kill -9 of the leader
// N times, and prints a table.   npm run bench [-- --duration 10 --runs 10]
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runFailover } from '../src/bench/failover.js';
import { runLoad } from '../src/bench/load.js';
import { fmtMs, fmtSummary } from '../src/check/stats.js';
import { localControl } from '../src/cli/local-control.js';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, runs: { type: 'string', default: '10' }, clients: { type: 'string', default: '1,16,64' } } });
const dataDir = mkdtempSync(join(tmpdir(), 'raft-bench-'));
const up = spawn(process.execPath, ['--import', 'tsx', resolve('src/cli/main.ts'), 'up', '--data-dir', dataDir, '--http-port', '18001', '--grpc-port', '17001'], { stdio: ['ignore', 'pipe', 'inherit'] });
let log = '';
up.stdout!.on('data', (d) => (log += d));
while (!/Leader elected/.test(log)) await new Promise((r) => setTimeout(r, 100));
console.log(`fresh 3-node cluster in ${dataDir}`);
const control = localControl(dataDir);
const rows: string[] = [];
// Warm up (JIT, connections) before measuring.
await runLoad({ control, clients: 8, durationMs: 3000, mix: { put: 1, get: 0, cas: 0 }, keys: 100, valueBytes: 100, consistency: 'linearizable', via: 'leader' });
for (const clients of values.clients!.split(',').map(Number)) {
  const r = await runLoad({ control, clients, durationMs: Number(values.duration) * 1000, mix: { put: 1, get: 0, cas: 0 }, keys: 100, valueBytes: 100, consistency: 'linearizable', via: 'leader', progress: (l) => process.stderr.write(l + '\n') });
  rows.push(`writes, ${String(clients).padStart(2)} clients: ${r.throughput.toFixed(0).padStart(5)} writes/s, ${fmtSummary(r.overall)}, errors ${Object.values(r.errors).reduce((a, b) => a + b, 0)}`);
  console.log(rows[rows.length - 1]);
}
const f = await runFailover(control, Number(values.runs), (l) => process.stderr.write(l + '\n'));
rows.push(`failover (${values.runs} kills): kill -> new leader ${fmtSummary(f.toLeader)}, mean ${fmtMs(f.toLeader.mean)}`);
rows.push(`failover (${values.runs} kills): kill -> next acknowledged write ${fmtSummary(f.toWrite)}, mean ${fmtMs(f.toWrite.mean)}`);
up.kill('SIGINT');
await new Promise((r) => up.once('exit', r));
console.log('\n' + rows.join('\n'));

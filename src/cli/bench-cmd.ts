// `raft-otel bench` (load) and `raft-otel bench failover`, against the local cluster.
import { parseArgs } from 'node:util';
import { runFailover } from '../bench/failover.js';
import { parseMix, runLoad, type LoadResult } from '../bench/load.js';
import { fmtMs, fmtSummary } from '../check/stats.js';
import { DEFAULT_DATA_DIR } from './cluster-file.js';
import { localControl } from './local-control.js';
import { targetsControl } from '../check/control.js';
import { usesCompose } from './common.js';
import { composeControl } from './compose.js';

export const benchHelp = `raft-otel bench [options]            load: concurrent clients for a fixed time
raft-otel bench failover [--runs N]   kill -9 the leader N times and time the recovery

Load options:
  --clients N        concurrent clients, each one request at a time (default 16)
  --duration S       seconds (default 10)
  --mix M            weights of put, get and cas (default put=80,get=15,cas=5)
  --keys N           keys written and read (default 100)
  --value-bytes N    size of each value (default 100)
  --consistency C    reads: linearizable (default), lease or stale
  --via leader|any   send every request to the leader (default), or spread over all nodes
  --data-dir DIR     the cluster (default ./data)
  --targets LIST     instead of a local cluster, these nodes: n1=host:port,... (as in Docker)
  --compose          the docker compose stack of this folder (bench failover kills its leader)

It prints a progress line each second, then throughput, latency percentiles per operation and
errors by kind. Failover prints each run and the distribution of kill -> new leader and kill ->
next acknowledged write.
`;

export function printLoad(r: LoadResult, label = ''): void {
  console.log(
    `${label}throughput ${r.throughput.toFixed(0)} ops/s (${r.ops} ops in ${r.seconds} s); all: ${fmtSummary(r.overall)}`,
  );
  for (const [k, s] of Object.entries(r.byKind))
    console.log(`  ${k.padEnd(4)} ${String(s.count).padStart(7)} ops  ${fmtSummary(s)}`);
  const errs = Object.entries(r.errors);
  console.log(errs.length ? `  errors: ${errs.map(([k, v]) => `${k} ${v}`).join(', ')}` : '  errors: none');
}

export async function benchCommand(argv: string[]): Promise<number> {
  const failover = argv[0] === 'failover';
  const { values } = parseArgs({
    args: failover ? argv.slice(1) : argv,
    options: {
      clients: { type: 'string', default: '16' },
      duration: { type: 'string', default: '10' },
      mix: { type: 'string', default: 'put=80,get=15,cas=5' },
      keys: { type: 'string', default: '100' },
      'value-bytes': { type: 'string', default: '100' },
      consistency: { type: 'string', default: 'linearizable' },
      via: { type: 'string', default: 'leader' },
      runs: { type: 'string', default: '10' },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      targets: { type: 'string' },
      compose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(benchHelp);
    return 0;
  }
  const control = values.targets
    ? targetsControl(values.targets)
    : usesCompose(values)
      ? composeControl()
      : localControl(values['data-dir']);
  if (failover) {
    const r = await runFailover(control, Number(values.runs), (l) => console.log(l));
    console.log(`kill -> new leader:        ${fmtSummary(r.toLeader)}, mean ${fmtMs(r.toLeader.mean)}`);
    console.log(`kill -> acknowledged write: ${fmtSummary(r.toWrite)}, mean ${fmtMs(r.toWrite.mean)}`);
    return 0;
  }
  const consistency = values.consistency as 'linearizable' | 'lease' | 'stale';
  if (!['linearizable', 'lease', 'stale'].includes(consistency))
    throw new Error('--consistency must be linearizable, lease or stale');
  if (values.via !== 'leader' && values.via !== 'any') throw new Error('--via must be leader or any');
  console.log(
    `bench: ${values.clients} clients for ${values.duration} s, mix ${values.mix}, ${values.keys} keys, ${values['value-bytes']}-byte values`,
  );
  const r = await runLoad({
    control,
    clients: Number(values.clients),
    durationMs: Number(values.duration) * 1000,
    mix: parseMix(values.mix),
    keys: Number(values.keys),
    valueBytes: Number(values['value-bytes']),
    consistency,
    via: values.via,
    progress: (l) => console.log(l),
  });
  printLoad(r);
  return 0;
}

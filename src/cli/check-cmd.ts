// `raft-otel check-linearizable`: the long nemesis run against the local cluster, with a report.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeFailure } from '../check/linearizability.js';
import { DEFAULT_MAX_STALENESS_MS } from '../check/client.js';
import { runNemesis, type NemesisOptions } from '../check/nemesis.js';
import { fmtSummary } from '../check/stats.js';
import { DEFAULT_DATA_DIR, readCluster } from './cluster-file.js';
import { localControl } from './local-control.js';
import { usesCompose } from './common.js';
import { composeControl } from './compose.js';

export const checkHelp = `raft-otel check-linearizable [options]

Runs concurrent clients (get, put, compare-and-set on a few keys, through random nodes) against
the local cluster while a nemesis kills (SIGKILL), restarts, pauses, resumes and partitions nodes
and injects drops and delays. Then it heals everything, lets the clients carry on, and checks the
recorded history for linearizability (Wing-Gong/Lowe search, keys checked independently,
operations with unknown outcome allowed to take effect at any time after they began).

It prints operations, availability, latency percentiles and the verdict, writes the history to a
JSON file, and on a violation prints the operations no order can explain.

Options:
  --duration S     seconds of faults (default 60)
  --settle S       seconds of clients after healing (default 5)
  --clients N      concurrent clients (default 8)
  --keys N         keys (default 3)
  --reads MODE     how clients read: linearizable (default), lease, or stale (any node that heard
                   from a leader within --max-staleness-ms): stale reads are not linearizable, and
                   the verdict should say so
  --max-staleness-ms N  the bound of stale reads (default 1000)
  --no-faults      run the clients without a nemesis
  --seed N         the nemesis's seed (default: random, printed)
  --out FILE       where to write the history (default <data-dir>/history-<time>.json)
  --data-dir DIR   the cluster (default ./data)
  --compose        the docker compose stack of this folder instead (kills, pauses through docker
                   compose; the history goes to the current folder unless --out)
`;

/** The reasons operations failed or ended unknown, most frequent first, one line each. */
function whyFailed(errors: Record<string, number>): string {
  const rows = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  return rows.length ? `\n  why        ${rows.map(([code, n]) => `${n} ${code}`).join('\n             ')}` : '';
}

export async function checkCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '60' },
      settle: { type: 'string', default: '5' },
      clients: { type: 'string', default: '8' },
      keys: { type: 'string', default: '3' },
      'no-faults': { type: 'boolean' },
      reads: { type: 'string', default: 'linearizable' },
      'max-staleness-ms': { type: 'string', default: String(DEFAULT_MAX_STALENESS_MS) },
      seed: { type: 'string' },
      out: { type: 'string' },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      compose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(checkHelp);
    return 0;
  }
  const reads = values.reads as NonNullable<NemesisOptions['reads']>;
  if (!['linearizable', 'lease', 'stale'].includes(reads))
    throw new Error(`--reads must be linearizable, lease or stale, not "${values.reads}"`);
  const maxStalenessMs = Number(values['max-staleness-ms']);
  if (!(Number.isFinite(maxStalenessMs) && maxStalenessMs >= 0))
    throw new Error(`--max-staleness-ms takes milliseconds >= 0, not "${values['max-staleness-ms']}"`);
  const compose = usesCompose(values);
  const cluster = compose ? null : readCluster(values['data-dir']);
  const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 1e6);
  const durationMs = Number(values.duration) * 1000;
  console.log(
    `check-linearizable: ${values.clients} clients, ${values.keys} keys, ${values.duration} s ${values['no-faults'] ? 'without faults' : `of faults (seed ${seed})`}, ${reads === 'stale' ? `stale reads (bound ${maxStalenessMs} ms)` : `${reads} reads`}`,
  );
  const r = await runNemesis({
    control: compose ? composeControl() : localControl(values['data-dir']),
    clients: Number(values.clients),
    keys: Number(values.keys),
    durationMs,
    settleMs: Number(values.settle) * 1000,
    faults: !values['no-faults'],
    seed,
    reads,
    maxStalenessMs,
    progress: (line) => console.log(line),
  });
  const out =
    values.out ?? join(cluster?.dataDir ?? '.', `history-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    out,
    JSON.stringify(
      {
        seed,
        reads,
        ...(reads === 'stale' ? { maxStalenessMs } : {}),
        linearizable: r.check.linearizable,
        faults: r.faults,
        history: r.history.map((o) => ({
          ...o,
          call: o.call - r.t0,
          ret: Number.isFinite(o.ret) ? o.ret - r.t0 : null,
        })),
      },
      null,
      1,
    ),
  );
  console.log(`
operations   ${r.invoked} invoked: ${r.ok} ok, ${r.failed} failed (not applied), ${r.unknown} unknown outcome${whyFailed(r.errors)}
faults       ${r.faults.length}
availability ${(r.availability.duringFaults * 100).toFixed(1)}% during faults, ${(r.availability.afterHealing * 100).toFixed(1)}% after healing${r.healed ? '' : ' (NOT HEALED within 20 s: see the last fault line)'}
latency      ${fmtSummary(r.latency)} (completed operations)
history      ${out}
checked      ${r.check.ops} operations on ${r.check.keys} keys`);
  if (r.check.linearizable) {
    console.log('verdict      LINEARIZABLE');
    return 0;
  }
  console.log('verdict      NOT LINEARIZABLE\n');
  for (const f of r.check.failures) console.log(describeFailure(f, r.t0) + '\n');
  return 1;
}

// Failover, the same way for any cluster: kill -9 of the leader, then writes through the surviving
// nodes in turn, a new one every 25 ms (each with its own 5 s deadline) until one is acknowledged:
// the time from the kill to the first acknowledgement is what a client sees. Overlapping attempts
// keep the figure independent of how each system treats a write that arrives with no leader (etcd
// holds it until its request timeout; raft-otel refuses it at once with 503): one waiting attempt
// would measure the client's timeout, not the cluster. The killed node is restarted and given time
// to catch up before the next run.
import { summarize, type Summary } from '../check/stats.js';
import { sleep, waitLeader, type BenchCluster } from './bench-cluster.js';
import { writeOnce } from './closed-loop.js';

export interface KillLeaderResult {
  runs: number[];
  toWrite: Summary;
}

const ATTEMPT_EVERY_MS = 25;
const ATTEMPT_TIMEOUT_MS = 5000;
const GIVE_UP_MS = 30_000;

export async function killLeader(
  c: BenchCluster,
  runs: number,
  progress: (line: string) => void,
): Promise<KillLeaderResult> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const leader = await waitLeader(c);
    const survivors = c.nodes().filter((n) => n.id !== leader);
    const t0 = performance.now();
    await c.kill(leader);
    let acked = NaN;
    const attempts: Promise<void>[] = [];
    for (let n = 0; Number.isNaN(acked) && performance.now() - t0 < GIVE_UP_MS; n++) {
      attempts.push(
        writeOnce(c.target, survivors[n % survivors.length].http, 'failover', `run-${i}-${n}`, ATTEMPT_TIMEOUT_MS).then(
          (ok) => {
            if (ok && Number.isNaN(acked)) acked = performance.now() - t0;
          },
        ),
      );
      await sleep(ATTEMPT_EVERY_MS);
    }
    if (Number.isNaN(acked))
      throw new Error(`${c.name}: no write acknowledged within ${GIVE_UP_MS / 1000} s of the kill`);
    times.push(acked);
    progress(
      `  ${c.name} failover ${i + 1}/${runs}: killed ${leader}, next write acknowledged after ${acked.toFixed(0)} ms`,
    );
    await Promise.all(attempts); // every attempt answered or timed out: nothing left over for the next run
    await c.restart(leader);
    await sleep(1500); // let it catch up before the next kill
  }
  return { runs: times, toWrite: summarize(times) };
}

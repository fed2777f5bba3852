// The failover benchmark: kill -9 the leader N times (restarting it between runs) and measure the
// time from the kill to a new leader, and from the kill to the next acknowledged write.
import { perform } from '../check/client.js';
import { findLeader, type ClusterControl } from '../check/control.js';
import { summarize, type Summary } from '../check/stats.js';

export interface FailoverResult {
  runs: { killed: string; newLeader: string; toLeaderMs: number; toWriteMs: number }[];
  toLeader: Summary;
  toWrite: Summary;
}

export async function runFailover(
  control: ClusterControl,
  runs: number,
  progress?: (line: string) => void,
): Promise<FailoverResult> {
  const out: FailoverResult['runs'] = [];
  for (let i = 0; i < runs; i++) {
    let leader = await findLeader(control);
    for (let tries = 0; !leader && tries < 100; tries++) {
      await new Promise((r) => setTimeout(r, 50));
      leader = await findLeader(control);
    }
    if (!leader) throw new Error('no leader to kill: is the cluster running?');
    const survivors = control.members().filter((m) => m.id !== leader);
    const t0 = performance.now();
    await control.kill(leader);
    let toLeaderMs = NaN;
    let newLeader = '';
    let toWriteMs = NaN;
    // Watch for a new leader while a client keeps writing through the survivors.
    const watch = (async () => {
      while (Number.isNaN(toLeaderMs)) {
        const l = await findLeader(control, 200);
        if (l && l !== leader) {
          toLeaderMs = performance.now() - t0;
          newLeader = l;
        } else await new Promise((r) => setTimeout(r, 5));
      }
    })();
    for (let n = 0; Number.isNaN(toWriteMs); n++) {
      const r = await perform(
        survivors[n % survivors.length].http,
        { kind: 'write', key: 'failover', value: `${i}-${n}` },
        2000,
      );
      if (r.status === 'ok') toWriteMs = performance.now() - t0;
      else await new Promise((res) => setTimeout(res, 5));
    }
    await watch;
    out.push({ killed: leader, newLeader, toLeaderMs, toWriteMs });
    progress?.(
      `  run ${i + 1}/${runs}: killed ${leader}; ${newLeader} led after ${toLeaderMs.toFixed(0)} ms; first write acknowledged after ${toWriteMs.toFixed(0)} ms`,
    );
    await control.restart(leader);
    await new Promise((r) => setTimeout(r, 1500)); // let it catch up before the next kill
  }
  return {
    runs: out,
    toLeader: summarize(out.map((r) => r.toLeaderMs)),
    toWrite: summarize(out.map((r) => r.toWriteMs)),
  };
}

// A linearizability run on a real cluster: concurrent clients do get, put and compare-and-set on
// a few keys through random nodes while a nemesis kills (SIGKILL), restarts, pauses, resumes and
// partitions nodes and injects drops and delays. Then everything heals, the clients carry on for
// a while, and the recorded history goes through the checker.
import { Rng } from '../sim/rng.js';
import { perform, type ClientOp } from './client.js';
import { findLeader, type ClusterControl } from './control.js';
import { checkHistory, type CheckResult, type Op } from './linearizability.js';
import { summarize, type Summary } from './stats.js';

export interface NemesisOptions {
  control: ClusterControl;
  clients: number;
  keys: number;
  /** How long faults are injected. */
  durationMs: number;
  /** How long clients carry on after healing. */
  settleMs: number;
  faults: boolean;
  seed: number;
  /** Fault kinds the schedule must contain: each is injected at the first step where it is
   *  possible (a restart needs a node down, a resume a paused one), ahead of the seed's own draws,
   *  and the nemesis carries on past `durationMs` until every one that can happen has. A test that
   *  asserts a kind of fault happened schedules it here rather than hoping its seed draws it. */
  force?: FaultKind[];
  /** A line every second or so. */
  progress?: (line: string) => void;
  /** How the clients read (default linearizable). `stale` reads from any node that heard from a
   *  leader within `maxStalenessMs`: not linearizable, and the checker is expected to say so
   *  (exercise 10). */
  reads?: 'linearizable' | 'lease' | 'stale';
  maxStalenessMs?: number;
}

export type FaultKind = 'kill' | 'restart' | 'pause' | 'resume' | 'partition' | 'heal' | 'chaos';

export interface NemesisResult {
  history: Op[];
  check: CheckResult;
  faults: { at: number; what: string }[];
  invoked: number;
  ok: number;
  failed: number;
  unknown: number;
  /** Why operations did not succeed: failed and unknown-outcome operations by error code. */
  errors: Record<string, number>;
  latency: Summary;
  /** Whether, after the faults, every node answered again and a leader was elected within the
   *  20 s the nemesis waits for that (false also when the run had no faults to heal from and the
   *  cluster still did not answer). */
  healed: boolean;
  /** Fraction of operations that completed, during faults and after healing (after the 20 s
   *  wait when the cluster did not heal). */
  availability: { duringFaults: number; afterHealing: number };
  t0: number;
}

export async function runNemesis(o: NemesisOptions): Promise<NemesisResult> {
  const rng = new Rng(o.seed);
  const { control } = o;
  const ids = control.members().map((m) => m.id);
  const history: Op[] = [];
  const faults: { at: number; what: string }[] = [];
  const t0 = performance.now();
  let healedAt = Infinity;
  const counts = { invoked: 0, ok: 0, failed: 0, unknown: 0 };
  const errors: Record<string, number> = {};
  const window = { during: [0, 0], after: [0, 0] };
  const latencies: number[] = [];
  let running = true;
  let opId = 0;

  // Keys of their own per run: the checker starts every register empty, so a second run on the
  // same cluster must not read the first one's values (they would look like reads from nowhere).
  const keyPrefix = `lin-${o.seed}-${Date.now().toString(36)}-`;
  const client = async (c: number) => {
    const crng = new Rng(o.seed * 1000 + c);
    const lastSeen = new Map<string, string | null>();
    let n = 0;
    while (running) {
      const key = `${keyPrefix}k${crng.int(0, o.keys - 1)}`;
      const roll = crng.next();
      const op: ClientOp =
        roll < 0.5
          ? { kind: 'read', key, consistency: o.reads, maxStalenessMs: o.maxStalenessMs }
          : roll < 0.8
            ? { kind: 'write', key, value: `c${c}-${++n}` }
            : { kind: 'cas', key, expected: lastSeen.get(key) ?? null, value: `c${c}-${++n}` };
      const member = crng.pick(control.members());
      const call = performance.now();
      const out = await perform(member.http, op);
      const ret = performance.now();
      counts.invoked++;
      const bucket = call >= healedAt ? window.after : window.during;
      bucket[1]++;
      if (out.status !== 'ok') {
        const code = `${out.status}: ${out.code ?? 'no code'}`;
        errors[code] = (errors[code] ?? 0) + 1;
      }
      if (out.status === 'failed') {
        counts.failed++;
        await new Promise((r) => setTimeout(r, 10 + crng.int(0, 40)));
        continue;
      }
      if (out.status === 'ok') {
        counts.ok++;
        bucket[0]++;
        latencies.push(out.latencyMs);
      } else counts.unknown++;
      history.push({
        id: ++opId,
        client: c,
        key,
        kind: op.kind,
        value: op.value,
        expected: op.expected,
        status: out.status,
        result: op.kind === 'read' ? out.result : undefined,
        swapped: out.swapped,
        call,
        ret: out.status === 'unknown' ? Infinity : ret,
        node: out.node ?? member.id,
        index: out.index,
      });
      if (out.status === 'ok') {
        if (op.kind === 'read') lastSeen.set(key, out.result ?? null);
        else if (op.kind === 'write' || out.swapped) lastSeen.set(key, op.value!);
      }
    }
  };

  const note = (what: string) => {
    faults.push({ at: performance.now() - t0, what });
    o.progress?.(`  ${((performance.now() - t0) / 1000).toFixed(1)}s  nemesis: ${what}`);
  };
  const paused = new Set<string>();
  const setCuts = async (groups: string[][]) => {
    for (const id of ids) {
      if (!control.running(id) || paused.has(id)) continue;
      const others = groups.length > 1 ? ids.filter((x) => !groups.find((g) => g.includes(id))!.includes(x)) : [];
      await control.chaos(id, { cutOut: others, cutIn: others }).catch(() => {});
    }
  };

  const pending = [...(o.force ?? [])];
  const nemesis = async () => {
    for (;;) {
      if (!running) break;
      const up = () => ids.filter((id) => control.running(id) && !paused.has(id));
      const down = () => ids.filter((id) => !control.running(id));
      const possible = (k: FaultKind) =>
        k === 'kill' || k === 'pause'
          ? up().length > 1
          : k === 'restart'
            ? down().length > 0
            : k === 'resume'
              ? paused.size > 0
              : true;
      const overtime = performance.now() - t0 >= o.durationMs;
      if (overtime && !pending.some(possible)) break;
      await new Promise((r) => setTimeout(r, rng.int(500, 1200)));
      if (!running) break;
      if (performance.now() - t0 >= o.durationMs && !pending.some(possible)) break;
      const roll = rng.next();
      const forced = pending.findIndex(possible);
      const kind: FaultKind =
        forced >= 0
          ? pending.splice(forced, 1)[0]
          : roll < 0.2 && possible('kill')
            ? 'kill'
            : roll < 0.4 && possible('restart')
              ? 'restart'
              : roll < 0.5 && possible('pause')
                ? 'pause'
                : roll < 0.6 && possible('resume')
                  ? 'resume'
                  : roll < 0.75
                    ? 'partition'
                    : roll < 0.85
                      ? 'heal'
                      : 'chaos';
      try {
        if (kind === 'kill') {
          const victim = rng.chance(0.5) ? ((await findLeader(control)) ?? rng.pick(up())) : rng.pick(up());
          await control.kill(victim);
          note(`kill -9 ${victim}`);
        } else if (kind === 'restart') {
          const id = rng.pick(down());
          await control.restart(id);
          note(`restart ${id}`);
        } else if (kind === 'pause') {
          const victim = rng.chance(0.5) ? ((await findLeader(control)) ?? rng.pick(up())) : rng.pick(up());
          control.pause(victim);
          paused.add(victim);
          note(`pause ${victim} (SIGSTOP)`);
        } else if (kind === 'resume') {
          const id = rng.pick([...paused]);
          control.resume(id);
          paused.delete(id);
          note(`resume ${id}`);
        } else if (kind === 'partition') {
          const shuffled = [...ids].sort(() => rng.next() - 0.5);
          const cut = rng.int(1, Math.floor(ids.length / 2));
          const groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
          await setCuts(groups);
          note(`partition ${groups.map((g) => `{${g.join(',')}}`).join(' | ')}`);
        } else if (kind === 'heal') {
          await setCuts([ids]);
          note('heal the network');
        } else {
          let drop = rng.chance(0.5) ? Number((rng.next() * 0.3).toFixed(2)) : 0;
          const delay: [number, number] = [0, rng.int(0, 40)];
          // A forced fault must be a real one (the seed may draw no drop and no delay). Only a
          // forced draw takes an extra number, so a seed without `force` replays as before.
          if (forced >= 0 && drop === 0) drop = Number((0.05 + rng.next() * 0.25).toFixed(2));
          for (const id of up()) await control.chaos(id, { dropRate: drop, delayMs: delay }).catch(() => {});
          note(`drop ${drop}, delay ${delay[0]}-${delay[1]} ms`);
        }
      } catch (e) {
        note(`(${kind} failed: ${(e as Error).message})`);
      }
    }
  };

  const ticker = setInterval(() => {
    o.progress?.(
      `  ${((performance.now() - t0) / 1000).toFixed(1)}s  ${counts.invoked} ops: ${counts.ok} ok, ${counts.failed} failed, ${counts.unknown} unknown`,
    );
  }, 1000);
  const clients = Array.from({ length: o.clients }, (_, c) => client(c));
  if (o.faults) await nemesis();
  else await new Promise((r) => setTimeout(r, o.durationMs));

  // Heal: everything back up, network clean; clients carry on to show the cluster recovered.
  for (const id of paused) control.resume(id);
  for (const id of ids) if (!control.running(id)) await control.restart(id);
  for (const id of ids)
    await control.chaos(id, { cutOut: [], cutIn: [], dropRate: 0, dropReplyRate: 0, delayMs: [0, 0] }).catch(() => {});
  // Availability "after healing" is measured once every node answers again and all of them know
  // one leader, which answers as leader of that term (a node that merely calls itself leader may
  // be a resumed old leader that has not heard of the newer term yet).
  const deadline = performance.now() + 20_000;
  let healed = false;
  let missing = 'nothing checked yet';
  while (performance.now() < deadline) {
    const sts = await Promise.all(
      ids.map((id) =>
        fetch(`http://${control.members().find((m) => m.id === id)!.http}/status`, {
          signal: AbortSignal.timeout(300),
        }).then(
          async (r) => (r.ok ? ((await r.json()) as { role: string; term: number; leader: string | null }) : null),
          () => null,
        ),
      ),
    );
    const silent = ids.filter((_, i) => !sts[i]);
    const leaders = new Set(sts.map((st) => st?.leader ?? null));
    const terms = new Set(sts.map((st) => st?.term));
    const leaderId = sts[0]?.leader ?? null;
    const leaderSt = leaderId ? sts[ids.indexOf(leaderId)] : null;
    if (silent.length === 0 && leaders.size === 1 && terms.size === 1 && leaderSt?.role === 'leader') {
      healed = true;
      break;
    }
    missing =
      silent.length > 0
        ? `${silent.join(', ')} not answering`
        : `no one leader known to all (${ids.map((id, i) => `${id} ${sts[i]!.role} t${sts[i]!.term} leader=${sts[i]!.leader ?? '-'}`).join('; ')})`;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (o.faults)
    note(healed ? 'healed: every node up, network clean, a leader elected' : `not healed after 20 s: ${missing}`);
  healedAt = performance.now();
  await new Promise((r) => setTimeout(r, o.settleMs));
  running = false;
  await Promise.all(clients);
  clearInterval(ticker);

  return {
    history,
    check: checkHistory(history),
    faults,
    ...counts,
    errors,
    latency: summarize(latencies),
    healed,
    availability: {
      duringFaults: window.during[0] / Math.max(1, window.during[1]),
      afterHealing: window.after[0] / Math.max(1, window.after[1]),
    },
    t0,
  };
}

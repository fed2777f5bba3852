// The load generator (the course's "hammer"): concurrent clients, each doing one request after
// another with a mix of writes, reads and compare-and-sets, for a fixed time. Reports throughput,
// latency percentiles per kind of operation and errors by kind, with a progress line each second.
import { perform, type ClientOp } from '../check/client.js';
import { findLeader, type ClusterControl } from '../check/control.js';
import { summarize, type Summary } from '../check/stats.js';
import { Rng } from '../sim/rng.js';

export interface LoadOptions {
  control: ClusterControl;
  clients: number;
  durationMs: number;
  /** Relative weights of put, get and cas. */
  mix: { put: number; get: number; cas: number };
  keys: number;
  valueBytes: number;
  consistency: 'linearizable' | 'lease' | 'stale';
  /** Send every request to the leader, or spread them over all nodes (followers forward writes). */
  via: 'leader' | 'any';
  progress?: (line: string) => void;
}

export interface LoadResult {
  seconds: number;
  ops: number;
  throughput: number;
  overall: Summary;
  byKind: Record<string, Summary>;
  errors: Record<string, number>;
}

export function parseMix(text: string): LoadOptions['mix'] {
  const mix = { put: 0, get: 0, cas: 0 };
  for (const part of text.split(',')) {
    const [k, v] = part.split('=');
    if (!(k in mix) || !(Number(v) >= 0)) throw new Error(`mix "${text}": expected e.g. put=80,get=15,cas=5`);
    mix[k as keyof typeof mix] = Number(v);
  }
  if (mix.put + mix.get + mix.cas <= 0) throw new Error('the mix needs at least one operation with a weight above 0');
  return mix;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const members = o.control.members();
  let leader = o.via === 'leader' ? await findLeader(o.control) : null;
  const target = (rng: Rng) => members.find((m) => m.id === leader) ?? rng.pick(members);
  const latencies: Record<string, number[]> = { put: [], get: [], cas: [] };
  const errors: Record<string, number> = {};
  const value = 'x'.repeat(o.valueBytes);
  const total = o.mix.put + o.mix.get + o.mix.cas;
  let done = 0;
  let running = true;
  const t0 = performance.now();

  const client = async (c: number) => {
    const rng = new Rng(c + 1);
    while (running) {
      const roll = rng.next() * total;
      const key = `bench-${rng.int(0, o.keys - 1)}`;
      const kind = roll < o.mix.put ? 'put' : roll < o.mix.put + o.mix.get ? 'get' : 'cas';
      const op: ClientOp =
        kind === 'put'
          ? { kind: 'write', key, value }
          : kind === 'get'
            ? { kind: 'read', key, consistency: o.consistency }
            : { kind: 'cas', key, expected: value, value };
      const out = await perform(target(rng).http, op, 5000);
      if (!running) break;
      if (out.status === 'ok') {
        latencies[kind].push(out.latencyMs);
        done++;
      } else {
        errors[out.code ?? 'unknown'] = (errors[out.code ?? 'unknown'] ?? 0) + 1;
        if (o.via === 'leader') leader = await findLeader(o.control);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };

  let last = 0;
  const ticker = setInterval(() => {
    const s = (performance.now() - t0) / 1000;
    const recent = [...latencies.put.slice(-500), ...latencies.get.slice(-500)].sort((a, b) => a - b);
    const p50 = recent[Math.floor(recent.length / 2)] ?? NaN;
    const errs = Object.values(errors).reduce((a, b) => a + b, 0);
    o.progress?.(
      `  ${s.toFixed(0).padStart(3)}s  ${(done - last).toLocaleString('en-US').padStart(7)} ops/s  p50 ${p50.toFixed(2)} ms  errors ${errs}`,
    );
    last = done;
  }, 1000);
  const clients = Array.from({ length: o.clients }, (_, c) => client(c));
  await new Promise((r) => setTimeout(r, o.durationMs));
  running = false;
  clearInterval(ticker);
  await Promise.all(clients);
  const seconds = o.durationMs / 1000;
  const all = [...latencies.put, ...latencies.get, ...latencies.cas];
  return {
    seconds,
    ops: all.length,
    throughput: all.length / seconds,
    overall: summarize(all),
    byKind: Object.fromEntries(
      Object.entries(latencies)
        .filter(([, v]) => v.length)
        .map(([k, v]) => [k, summarize(v)]),
    ),
    errors,
  };
}

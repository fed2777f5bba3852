// What the side-by-side benchmark needs from a cluster, whichever system runs it: its nodes' client
// addresses, who leads, how to encode a write, and its processes (to kill -9 one, restart it and
// read its memory). Implemented for etcd (etcd-cluster.ts) and for raft-otel (raft-cluster.ts).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { WriteTarget } from './closed-loop.js';

export interface BenchNode {
  id: string;
  /** host:port of its client API. */
  http: string;
}

export interface BenchCluster {
  name: string;
  target: WriteTarget;
  nodes(): BenchNode[];
  /** The leader's id, or null when no node answers as leader. */
  leader(): Promise<string | null>;
  /** The pid of the node's process (0 when it is not running). */
  pid(id: string): number;
  /** kill -9 of the node; resolves once the process is gone. */
  kill(id: string): Promise<void>;
  /** Starts a killed node again, with its data; resolves once it serves. */
  restart(id: string): Promise<void>;
  stop(): Promise<void>;
}

/** Resident set size of a process in MiB, from /proc (Linux); NaN when it cannot be read. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Polls `leader()` until some node leads, or fails after `timeoutMs`. */
export async function waitLeader(c: BenchCluster, timeoutMs = 20_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const l = await c.leader();
    if (l) return l;
    if (performance.now() > deadline) throw new Error(`${c.name}: no leader within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port such that base + each offset is free on 127.0.0.1 now (other clusters may be
 *  running on this machine). Tries bases from `from` upwards in steps of 100. */
export async function freeBase(from: number, offsets: number[]): Promise<number> {
  for (let base = from; base < 65000; base += 100) {
    let ok = true;
    for (const o of offsets) if (!(await portFree(base + o))) ok = false;
    if (ok) return base;
  }
  throw new Error(`no free ports from ${from} up`);
}

/** CPU time (user + system) a process has used, in ms, from /proc (Linux; clock ticks of 10 ms);
 *  NaN when it cannot be read. Contention on a busy machine stretches latency far more than it
 *  changes the CPU a write costs, so CPU per write is the steadier figure for comparing changes. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime (fields 14 and 15)
  } catch {
    return NaN;
  }
}

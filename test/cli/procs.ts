// Real `raft-otel` processes for the CLI tests, run through the package's bin as a user runs them,
// in temporary data dirs on free ports. Everything started here is recorded, and `cleanUp()` (in
// afterEach) stops it even when a test fails half-way: the `up` processes, and every node any
// data dir's node.json names.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findCluster } from '../../src/cli/cluster-file.js';
import { isAlive, isOwnProcess } from '../../src/cli/pids.js';
import { consecutiveFreePorts } from '../../src/cli/ports.js';

export const BIN = resolve('bin/raft-otel.mjs');

const ups = new Set<ChildProcess>();
const dirs: string[] = [];

export function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'raft-cli-'));
  dirs.push(d);
  return d;
}

/** A base port with `n` consecutive free ports after it (node i of `up` uses base + i - 1). */
export const consecutiveFree = (n: number): Promise<number> => consecutiveFreePorts(n);

export interface Result {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

/** Runs one command to its end (killed after `timeoutMs`, which fails the test's expectations). */
export function cli(args: string[], timeoutMs = 30_000): Promise<Result> {
  const t0 = Date.now();
  const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  return new Promise((ok) => {
    const timer = setTimeout(() => {
      err += `\n(test: killed after ${timeoutMs} ms)`;
      p.kill('SIGKILL');
    }, timeoutMs);
    p.once('exit', (code) => {
      clearTimeout(timer);
      ok({ code, out, err, ms: Date.now() - t0 });
    });
  });
}

/** A running `raft-otel up`, its output collected. */
export class Up {
  out = '';
  readonly proc: ChildProcess;
  constructor(args: string[], env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [BIN, 'up', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    ups.add(this.proc);
    this.proc.stdout!.on('data', (d) => (this.out += d));
    this.proc.stderr!.on('data', (d) => (this.out += d));
  }

  async waitFor(re: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.out.match(re);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`no ${re} within ${ms} ms in the output of up:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Its exit code, or a failure naming what it printed when it does not exit in time. */
  exited(ms = 20_000): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve(this.proc.exitCode);
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`up did not exit within ${ms} ms:\n${this.out}`)), ms);
      this.proc.once('exit', (code) => {
        clearTimeout(timer);
        ok(code);
      });
    });
  }
}

export { isAlive as alive };

/** The pid of each node of the data dir's cluster, as the commands see them (node.json's over
 *  cluster.json's). */
export function nodePids(dir: string): Record<string, number> {
  return Object.fromEntries((findCluster(dir)?.nodes ?? []).map((n) => [n.id, n.pid]));
}

export async function until<T>(what: string, probe: () => T | null | Promise<T | null>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops every `up` and every node started by the tests so far. */
export async function cleanUp(): Promise<void> {
  for (const p of ups) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  ups.clear();
  // Only processes whose command line names the test's data dir: a recorded pid may be reused.
  const pids = dirs.flatMap((d) => Object.values(nodePids(d)).filter((pid) => isOwnProcess(pid, d)));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  await until('the test processes to exit', () => (pids.some(isAlive) ? null : true), 5000);
}

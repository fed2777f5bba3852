// Real `raft-otel` processes for the CLI tests, run through the package's bin as a user runs them,
// in temporary data dirs on reserved ports. Nothing started here outlives its test file:
// - every command and `up` is spawned tracked (test/support/processes.ts), so the file-end clean-up
//   kills it, passed or failed;
// - the nodes `up` and `restart` start run detached (a user's cluster outlives its terminal), so
//   they are found through the CLI's own records (each data dir's node.json pids) and killed by
//   cleanUp(), which the tests call after each test or file and which is also registered as a
//   file-end clean-up;
// - every command runs with NODE_OPTIONS preloading a guard (withExitGuard) that the CLI passes on
//   to the nodes it starts: a node ends within half a second of the test worker dying, even when no
//   clean-up could run.
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findCluster, isPaused, isRunning, liveNodes } from '../../src/cli/cluster-file.js';
import { ownStatus } from '../../src/cli/http.js';
import { isAlive, isOwnProcess } from '../../src/cli/pids.js';
import { releasePorts, reservePorts } from '../support/ports.js';
import { killChild, onCleanup, spawnTracked, withExitGuard } from '../support/processes.js';
import { waitUntil } from '../support/wait.js';

export const BIN = resolve('bin/raft-otel.mjs');

const ups = new Set<ChildProcess>();
/** The data dirs the tests use, and the temporary directory each lives in. */
const dirs: { dir: string; root: string }[] = [];
const ports: number[] = [];
let registered = false;

/** Makes sure cleanUp runs when the file ends, even if the test's own hooks never get to it. */
function registerCleanUp(): void {
  if (registered) return;
  registered = true;
  onCleanup(async () => {
    registered = false; // the file-end run removes it: a later use registers it again
    await cleanUp();
  });
}

/** A new temporary data dir, its nodes stopped by cleanUp(). fresh: a path inside it that does
 *  not exist yet, as for a first `npm start`. */
export function dataDir(fresh = false): string {
  const root = mkdtempSync(join(tmpdir(), 'raft-cli-'));
  const d = fresh ? join(root, 'data') : root;
  dirs.push({ dir: d, root });
  registerCleanUp();
  return d;
}

/** Base ports for an `n`-node cluster (node i of `up` uses base + i - 1): two ranges of `n`
 *  consecutive ports, reserved across concurrent test runs (test/support/ports.ts), so no other run
 *  takes them before `up` binds them, and disjoint. cleanUp() gives them back. */
export async function clusterPorts(n: number): Promise<{ http: number; grpc: number }> {
  registerCleanUp();
  const http = await reservePorts(n, true);
  ports.push(...http);
  const grpc = await reservePorts(n, true);
  ports.push(...grpc);
  return { http: http[0], grpc: grpc[0] };
}

/** The environment of every command the tests run: nodes it starts die with the test worker. */
const commandEnv = (extra: Record<string, string> = {}) => withExitGuard({ ...process.env, ...extra });

export interface Result {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

/** Runs one command to its end (killed after `timeoutMs`, which fails the test's expectations). */
export function cli(args: string[], timeoutMs = 30_000): Promise<Result> {
  registerCleanUp();
  const t0 = Date.now();
  const p = spawnTracked(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: commandEnv() });
  let out = '';
  let err = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
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
    registerCleanUp();
    this.proc = spawnTracked(process.execPath, [BIN, 'up', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: commandEnv(env),
    });
    ups.add(this.proc);
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
  }

  /** Where the output is now: waitFor(..., mark) looks only at what comes after. */
  mark(): number {
    return this.out.length;
  }

  waitFor(re: RegExp, ms = 30_000, from = 0): Promise<RegExpMatchArray> {
    return waitUntil(`${re} in the output of up`, () => this.out.slice(from).match(re), {
      timeoutMs: ms,
      context: () => `up's output:\n${this.out}`,
    });
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

/** Polls `probe` until it returns something other than null, with a deadline naming `what`. */
export async function until<T>(what: string, probe: () => T | null | Promise<T | null>, ms = 15_000): Promise<T> {
  const got = await waitUntil(
    what,
    async () => {
      const v = await probe();
      return v === null ? null : { v };
    },
    { timeoutMs: ms },
  );
  return got.v;
}

/** The one leader every running, unpaused node of the data dir's cluster knows, asked over HTTP
 *  (not through the CLI) and only of the processes the records name. The commands do not retry
 *  (a person reads the error and tries again), so a test waits for this before a command that
 *  needs a leader, right after anything that may have moved it (start, partition, heal, kill,
 *  transfer). `context` (up's output) is shown when the deadline passes. */
export async function agreedLeader(dir: string, context: () => string = () => '', timeoutMs = 30_000): Promise<string> {
  let seen = '(no node asked yet)';
  return waitUntil(
    () => `every running node of ${dir} to know one leader (last seen: ${seen})`,
    async () => {
      const c = findCluster(dir);
      const nodes = (c ? liveNodes(c) : []).filter((n) => isRunning(n) && !isPaused(n.pid));
      const sts = await Promise.all(nodes.map((n) => ownStatus(n, 2000)));
      seen = sts.map((s, i) => (s ? `${s.id} ${s.role} leader=${s.leader}` : `${nodes[i].id} no answer`)).join('; ');
      const leader = sts.find((s) => s?.role === 'leader');
      return nodes.length > 0 && leader && sts.every((s) => s?.leader === leader.id) && leader.id;
    },
    { timeoutMs, context },
  );
}

/** Stops every `up` and every node started by the tests so far, gives their ports back, and
 *  removes their data dirs (kept with RAFT_TEST_KEEP_DATA=1). */
export async function cleanUp(): Promise<void> {
  await Promise.all([...ups].map((p) => killChild(p)));
  ups.clear();
  // Only processes whose command line names the test's data dir: a recorded pid may be reused.
  const pids = dirs.flatMap(({ dir }) => Object.values(nodePids(dir)).filter((pid) => isOwnProcess(pid, dir)));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGCONT'); // a paused node cannot die until it runs again
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  await until(`the test's nodes (pids ${pids.join(', ')}) to exit`, () => (pids.some(isAlive) ? null : true), 5000);
  releasePorts(ports.splice(0));
  const done = dirs.splice(0);
  if (!process.env.RAFT_TEST_KEEP_DATA) for (const { root } of done) rmSync(root, { recursive: true, force: true });
}

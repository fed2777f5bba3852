// How fast the command line answers, measured as a user runs it: through the package's bin
// (bin/raft-otel.mjs), a fresh process per command, median of 3. Prints each figure beside its goal.
//   npm run bench:startup                 every measure, 3 runs each
//   npm run bench:startup -- --runs 5     more runs per measure
// Every cluster runs on free loopback ports in a temporary data dir; every process started here is
// stopped before the script exits, also on Ctrl-C or an error.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { NodeStatus } from '../src/api/status.js';
import { findCluster, isRunning } from '../src/cli/cluster-file.js';
import { signal } from '../src/cli/pids.js';
import { consecutiveFreePorts } from '../src/cli/ports.js';

const BIN = resolve('bin/raft-otel.mjs');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Math.max(1, Number(values.runs) || 3);
const DEADLINE_MS = 30_000;

// ---- processes and their clean-up ------------------------------------------------------------

const groups = new Set<ChildProcess>();
const dataDirs: string[] = [];

/** Starts the bin in its own process group, so stopping the group also stops anything it forks. */
function startBin(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ...env },
  });
  groups.add(child);
  child.once('exit', () => groups.delete(child));
  return child;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((ok) => {
    const timer = setTimeout(() => ok(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      ok(true);
    });
  });
}

/** The node processes of a data dir's cluster that are still running, found as the commands find
 *  them (node.json's pids over cluster.json's, each checked to be that node's process). */
function runningNodePids(dir: string): number[] {
  return (findCluster(dir)?.nodes ?? []).filter(isRunning).map((n) => n.pid);
}

function cleanUp(): void {
  for (const child of [...groups]) signalGroup(child, 'SIGKILL');
  for (const dir of dataDirs) {
    for (const pid of runningNodePids(dir)) {
      signal(pid, 'SIGCONT');
      signal(pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

process.on('SIGINT', () => {
  cleanUp();
  process.exit(130);
});

// ---- helpers ---------------------------------------------------------------------------------

async function status(http: string): Promise<NodeStatus | null> {
  try {
    const r = await fetch(`http://${http}/status`, { signal: AbortSignal.timeout(300) });
    return r.ok ? ((await r.json()) as NodeStatus) : null;
  } catch {
    return null;
  }
}

async function until<T>(what: string, probe: () => Promise<T | null>, ms = DEADLINE_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs one command through the bin; its wall time in ms. Fails on a non-zero exit. */
async function run(args: string[], dir?: string): Promise<{ ms: number; out: string }> {
  const t0 = performance.now();
  const child = startBin(dir ? [...args, '--data-dir', dir] : args);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  if (!(await exited(child, DEADLINE_MS))) {
    signalGroup(child, 'SIGKILL');
    throw new Error(`raft-otel ${args.join(' ')} did not exit within ${DEADLINE_MS} ms:\n${out}`);
  }
  const ms = performance.now() - t0;
  if (child.exitCode !== 0) throw new Error(`raft-otel ${args.join(' ')} exited ${child.exitCode}:\n${out}`);
  return { ms, out };
}

// ---- the measures ----------------------------------------------------------------------------

const results = new Map<string, { goalMs: number; samples: number[] }>();
function record(name: string, goalMs: number, ms: number): void {
  const r = results.get(name) ?? { goalMs, samples: [] };
  r.samples.push(ms);
  results.set(name, r);
}

interface Cluster {
  up: ChildProcess;
  dir: string;
  http: string[];
  output: () => string;
}

/** `up` with 3 nodes on a fresh data dir; records the time to every node serving and a leader. */
async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'raft-startup-'));
  dataDirs.push(dir);
  const [httpBase, grpcBase] = [await consecutiveFreePorts(3), await consecutiveFreePorts(3)];
  const http = [0, 1, 2].map((i) => `127.0.0.1:${httpBase + i}`);
  const t0 = performance.now();
  const up = startBin(['up', '--data-dir', dir, '--http-port', String(httpBase), '--grpc-port', String(grpcBase)]);
  let out = '';
  up.stdout!.on('data', (d) => (out += d));
  up.stderr!.on('data', (d) => (out += d));
  let allServingMs = 0;
  await until('every node serving and a leader', async () => {
    if (up.exitCode !== null) throw new Error(`up exited ${up.exitCode}:\n${out}`);
    const sts = await Promise.all(http.map(status));
    if (sts.some((s) => s === null)) return null;
    allServingMs ||= performance.now() - t0;
    return sts.some((s) => s!.role === 'leader') ? true : null;
  });
  record('up (3 nodes) to all serving + a leader', 2000, performance.now() - t0);
  record('  of which: up to all nodes serving', 2000, allServingMs);
  return { up, dir, http, output: () => out };
}

async function stopCluster(c: Cluster): Promise<void> {
  signalGroup(c.up, 'SIGINT');
  if (!(await exited(c.up, 20_000))) signalGroup(c.up, 'SIGKILL');
  for (const pid of runningNodePids(c.dir)) signal(pid, 'SIGKILL');
}

/** The commands a classroom loops over, against a running cluster. */
async function commands(c: Cluster): Promise<void> {
  await run(['kv', 'put', 'greeting', 'hello'], c.dir);
  record('--help', 300, (await run(['--help'])).ms);
  record('status', 300, (await run(['status'], c.dir)).ms);
  record('kv get', 300, (await run(['kv', 'get', 'greeting'], c.dir)).ms);
  record('kill', 300, (await run(['kill', 'n3'], c.dir)).ms);
  await until('n3 to stop answering', async () => ((await status(c.http[2])) ? null : true));
  const t0 = performance.now();
  await run(['restart', 'n3'], c.dir);
  await until('n3 to serve again', async () => ((await status(c.http[2])) ? true : null));
  record('restart of a killed node to serving', 1000, performance.now() - t0);
  record('pause', 300, (await run(['pause', 'n3'], c.dir)).ms);
  record('resume', 300, (await run(['resume', 'n3'], c.dir)).ms);
  record('partition', 300, (await run(['partition', 'n1', 'n2,n3'], c.dir)).ms);
  record('heal', 300, (await run(['heal'], c.dir)).ms);
}

/** One node alone (its peers absent), tracing on as under `up`: spawn to its HTTP API serving. */
async function nodeStartup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'raft-startup-node-'));
  dataDirs.push(dir);
  const base = await consecutiveFreePorts(6);
  const peers = [0, 1, 2].map((i) => `n${i + 1}=127.0.0.1:${base + i}/127.0.0.1:${base + 3 + i}`).join(',');
  const t0 = performance.now();
  // Peers authenticate with a cluster secret (a node without one refuses to start): a fresh one.
  const node = startBin(['node', '--id', 'n1', '--peers', peers, '--data-dir', join(dir, 'n1')], {
    RAFT_TRACE_DIR: join(dir, 'traces'),
    RAFT_CLUSTER_SECRET: randomBytes(32).toString('hex'),
  });
  let out = '';
  node.stdout!.on('data', (d) => (out += d));
  node.stderr!.on('data', (d) => (out += d));
  try {
    await until('the node to serve', async () => {
      if (node.exitCode !== null || node.signalCode !== null)
        throw new Error(`the node exited (${node.exitCode ?? node.signalCode}):\n${out}`);
      return (await status(`127.0.0.1:${base + 3}`)) ? true : null;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; its output:\n${out}`);
    });
    record('node start-up to serving', 700, performance.now() - t0);
  } finally {
    signalGroup(node, 'SIGKILL');
    await exited(node, 5000);
  }
}

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin', 'package.json'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head} + local changes` : head;
  } catch {
    return 'unknown commit';
  }
}

async function main(): Promise<void> {
  const built = existsSync(resolve('dist/.build-stamp')) ? 'compiled dist/ present' : 'no dist/ build';
  console.log(
    `raft-otel start-up, through bin/raft-otel.mjs, median of ${RUNS} (${commit()}; node ${process.version}, ${cpus().length} cores; ${built})\n`,
  );
  for (let i = 0; i < RUNS; i++) {
    const c = await startCluster();
    try {
      if (i === RUNS - 1) {
        // Let the cluster settle (the first heartbeats, the leader's first entry) before the commands.
        await run(['status'], c.dir);
        for (let k = 0; k < RUNS; k++) await commands(c);
      }
    } finally {
      await stopCluster(c);
    }
  }
  for (let i = 0; i < RUNS; i++) await nodeStartup();

  console.log(`${'measure'.padEnd(42)} ${'median'.padStart(7)}   ${'runs'.padEnd(24)} goal`);
  for (const [name, r] of results) {
    const sorted = [...r.samples].sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    const verdict = name.startsWith(' ') ? '' : median < r.goalMs ? 'ok' : 'MISSED';
    console.log(
      `${name.padEnd(42)} ${fmt(median).padStart(7)}   ${r.samples.map(fmt).join(' ').padEnd(24)} < ${fmt(r.goalMs)} ${verdict}`,
    );
  }
}

main()
  .catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  })
  .finally(() => cleanUp());

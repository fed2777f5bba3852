// A learner's setting for the exercise tests: a real local cluster (`raft-otel up`) with the
// built-in viewer it starts (on a reserved port), and the `raft-otel` commands the READMEs tell the
// learner to run. A check is run as the learner runs it (`raft-otel exercise check N`), reading the
// viewer's /api/v3 and the nodes' /status.
//
// Spans are exported in batches; the nodes here flush every 200 ms (OTEL_BSP_SCHEDULE_DELAY) so a
// check sees a step soon after it, and `passes` polls the check, with a deadline, until it holds.
import { findCluster } from '../../src/cli/cluster-file.js';
import { releasePorts, reservePorts } from '../support/ports.js';
import { waitUntil } from '../support/wait.js';
import { agreedLeader, cleanUp, cli, clusterPorts, dataDir, Up, type Result } from '../cli/procs.js';

export interface Lab {
  dir: string;
  viewer: string;
  up: Up;
  /** Runs `raft-otel <args> --data-dir <dir>` (as the learner would). */
  run(...args: string[]): Promise<Result>;
  /** The leader every running node agrees on. */
  leader(): Promise<string>;
  /** Every node of the cluster but these. */
  others(...ids: string[]): string[];
  /** Stops the cluster (`raft-otel down`) and starts it again on the same data with `env`. */
  restartWith(env: Record<string, string>): Promise<void>;
  /** The node's pid, as the records say. */
  pid(id: string): number;
  /** Stops the cluster, the viewer, and gives the ports and data dir back. */
  stop(): Promise<void>;
}

/** Environment of every `up`: its viewer receives the spans; the nodes flush them every 200 ms
 *  rather than the 500 ms `up` sets for a learner. */
function traceEnv(extra: Record<string, string>): Record<string, string> {
  return { OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_METRIC_EXPORT_INTERVAL: '60000', ...extra };
}

/** Waits until the viewer `up` started answers its query API. */
async function viewerAnswers(url: string, up: Up): Promise<void> {
  await waitUntil(
    `the viewer to answer ${url}/api/v3/services`,
    async () => (await fetch(`${url}/api/v3/services`, { signal: AbortSignal.timeout(1000) })).ok,
    { timeoutMs: 20_000, everyMs: 100, context: () => `up's output:\n${up.out}` },
  );
}

/** A viewer and a cluster of `nodes` nodes with a leader, in a fresh data dir. `beforeUp` runs
 *  once the viewer answers and before the cluster starts (a check before any step). */
export async function lab(
  nodes = 3,
  env: Record<string, string> = {},
  beforeUp?: (dir: string, viewer: string) => Promise<void>,
): Promise<Lab> {
  const [viewerPort] = await reservePorts(1);
  const viewer = `http://127.0.0.1:${viewerPort}`;
  const dir = dataDir(true);
  if (beforeUp) await beforeUp(dir, viewer);
  const ports = await clusterPorts(nodes);
  const args = [
    '--data-dir',
    dir,
    '--http-port',
    String(ports.http),
    '--grpc-port',
    String(ports.grpc),
    '--viewer-port',
    String(viewerPort),
  ];
  const l: Lab = {
    dir,
    viewer,
    up: new Up([...args, '--nodes', String(nodes)], traceEnv(env)),
    run: (...a) => cli([...a, '--data-dir', dir], 60_000),
    leader: () => agreedLeader(dir, () => `up's output:\n${l.up.out}`),
    others: (...ids) => (findCluster(dir)?.nodes ?? []).map((n) => n.id).filter((id) => !ids.includes(id)),
    pid: (id) => findCluster(dir)?.nodes.find((n) => n.id === id)?.pid ?? 0,
    async stop() {
      await cleanUp();
      releasePorts([viewerPort]);
    },
    async restartWith(extra) {
      const down = await l.run('down');
      if (down.code !== 0) throw new Error(`raft-otel down failed: ${down.err}${down.out}`);
      await l.up.exited(20_000);
      l.up = new Up(args, traceEnv(extra));
      await viewerAnswers(viewer, l.up);
      await l.up.waitFor(/Leader elected/, 30_000);
      await l.leader();
    },
  };
  await viewerAnswers(viewer, l.up);
  await l.up.waitFor(/Leader elected/, 30_000);
  await l.leader();
  return l;
}

/** `raft-otel exercise <args>`, finding the viewer as a learner's command does (the one `up` runs
 *  for the data dir). */
export function exercise(l: Lab, ...args: string[]): Promise<Result> {
  return l.run('exercise', ...args);
}

/** Runs the check once: it must fail (exit 1) and print at least one ✗. */
export async function fails(l: Lab, n: string): Promise<Result> {
  const r = await exercise(l, 'check', n);
  if (r.code !== 1 || !/✗/.test(r.out))
    throw new Error(`exercise check ${n} should fail before the steps, but exited ${r.code}:\n${r.out}${r.err}`);
  return r;
}

/** Runs the check until it passes (exit 0, no ✗), with a deadline naming what still failed. */
export async function passes(l: Lab, n: string, timeoutMs = 30_000): Promise<Result> {
  let last: Result | null = null;
  return waitUntil(
    () => `exercise check ${n} to pass; its last output:\n${last ? `${last.out}${last.err}` : '(none)'}`,
    async () => {
      last = await exercise(l, 'check', n);
      return last.code === 0 && !/✗/.test(last.out) ? last : null;
    },
    { timeoutMs, everyMs: 1000 },
  );
}

/** A command that must succeed; its output when it does not. */
export async function ok(l: Lab, ...args: string[]): Promise<Result> {
  const r = await l.run(...args);
  if (r.code !== 0) throw new Error(`raft-otel ${args.join(' ')} exited ${r.code}:\n${r.out}${r.err}`);
  return r;
}

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

// A learner's cluster for the exercise tests: `raft-otel up` in a temporary data dir on reserved
// ports (the built-in viewer included), the exercise's steps run as the README writes them (through
// the bin, test/cli/procs.ts), and `raft-otel exercise start|check N` against it. The checks read
// the spans from the viewer `up` started, through its Jaeger-compatible /api/v3: the path a
// learner's check takes.
import { findCluster } from '../../src/cli/cluster-file.js';
import { agreedLeader, cli, clusterPorts, dataDir, Up, type Result } from '../cli/procs.js';
import { releasePorts, reservePorts } from '../support/ports.js';
import { onCleanup } from '../support/processes.js';
import { waitUntil } from '../support/wait.js';

/** Export spans every 200 ms (up sets 500 ms) so a check sees a step's spans soon. */
const FAST_EXPORT = { OTEL_BSP_SCHEDULE_DELAY: '200' };

/** Error codes that prove a write was not applied (README, HTTP API: safe to send again). */
const NOT_APPLIED =
  /\b(no_leader|not_leader|leader_unreachable|leader_unknown_address|transfer_in_progress|not_committed)\b/;

export class ExerciseCluster {
  private up: Up | null = null;
  /** The viewer's base URL, as `up` printed it. */
  viewer = '';

  private constructor(
    readonly dir: string,
    private readonly ports: { http: number; grpc: number; viewer: number },
    readonly nodes: number,
  ) {}

  /** A fresh cluster of `nodes`, its nodes started with `env` (RAFT_* settings), a leader elected. */
  /** `spare`: ports reserved past the last node's, for `members add` (it takes the next ones). */
  static async start(nodes = 3, env: Record<string, string> = {}, spare = 0): Promise<ExerciseCluster> {
    const [viewer] = await reservePorts(1);
    onCleanup(() => releasePorts([viewer]));
    const c = new ExerciseCluster(dataDir(), { ...(await clusterPorts(nodes + spare)), viewer }, nodes);
    await c.restartAll(env);
    return c;
  }

  /** (Re)starts every node with `env`, as `raft-otel down` then `VAR=... npm start` would. */
  async restartAll(env: Record<string, string> = {}): Promise<void> {
    if (this.up) {
      const down = await this.run('down');
      if (down.code !== 0) throw new Error(`down failed:\n${down.out}\n${down.err}`);
    }
    this.up = new Up(
      [
        '--data-dir',
        this.dir,
        '--nodes',
        String(this.nodes),
        '--http-port',
        String(this.ports.http),
        '--grpc-port',
        String(this.ports.grpc),
        '--viewer-port',
        String(this.ports.viewer),
      ],
      { ...FAST_EXPORT, ...env },
    );
    this.viewer = (await this.up.waitFor(/Viewer: (http:\/\/\S+)/, 60_000))[1].replace(/\/+$/, '');
    await this.up.waitFor(/Leader elected: /, 60_000);
    await this.leader();
  }

  /** up's output so far, for failure messages. */
  output(): string {
    return this.up?.out ?? '';
  }

  /** The leader every running node agrees on. */
  leader(): Promise<string> {
    return agreedLeader(this.dir, () => this.output());
  }

  async followers(): Promise<string[]> {
    const leader = await this.leader();
    return (findCluster(this.dir)?.nodes ?? []).map((n) => n.id).filter((id) => id !== leader);
  }

  /** One `raft-otel` command against this cluster, as a learner types it. */
  run(...args: string[]): Promise<Result> {
    return cli([...args, '--data-dir', this.dir], 60_000);
  }

  /** The same, failing the test with its output when it does not exit 0. */
  async ok(...args: string[]): Promise<Result> {
    const r = await this.run(...args);
    if (r.code !== 0) throw new Error(`raft-otel ${args.join(' ')} exited ${r.code}:\n${r.out}\n${r.err}`);
    return r;
  }

  /** A command that writes, sent again only when its answer proves it was not applied (no leader
   *  right then, or a new leader replaced the entry: the loaded machine can move leadership at any
   *  time), after waiting for a leader every node knows. Any other failure fails the test. */
  async write(...args: string[]): Promise<Result> {
    let r: Result | null = null;
    for (let attempt = 0; attempt < 5; attempt++) {
      r = await this.run(...args);
      if (r.code === 0 || !NOT_APPLIED.test(r.out + r.err)) break;
      await this.leader();
    }
    if (r!.code !== 0) throw new Error(`raft-otel ${args.join(' ')} exited ${r!.code}:\n${r!.out}\n${r!.err}`);
    return r!;
  }

  /** How many spans the viewer holds. */
  async storedSpans(): Promise<number> {
    const r = await fetch(`${this.viewer}/api/viewer/stats`, { signal: AbortSignal.timeout(5000) });
    return ((await r.json()) as { spans: number }).spans;
  }

  /** Waits until the nodes have exported what they had: the viewer's span count holds for a second. */
  async settled(): Promise<void> {
    let last = -1;
    await waitUntil(
      'the spans the viewer holds to stop growing',
      async () => {
        const n = await this.storedSpans();
        const same = n === last;
        last = n;
        return same;
      },
      { timeoutMs: 20_000, everyMs: 1000 },
    );
  }

  /** `raft-otel exercise check N` now, reading spans from the viewer. */
  check(n: number): Promise<Result> {
    return this.run('exercise', 'check', String(n), '--traces', this.viewer);
  }

  /** Checks again until its output shows `what` (a step's finding), or fails with its last output. */
  async checkShows(n: number, what: RegExp, timeoutMs = 30_000): Promise<Result> {
    let last: Result | null = null;
    return waitUntil(
      `exercise check ${n} to show ${what}`,
      async () => {
        last = await this.check(n);
        return what.test(last.out) ? last : null;
      },
      { timeoutMs, everyMs: 1000, context: () => `last check:\n${last?.out ?? '(none)'}\n${last?.err ?? ''}` },
    );
  }

  /** Checks again until it passes (spans reach the viewer in batches), or fails with its last output. */
  async checkPasses(n: number, timeoutMs = 30_000): Promise<Result> {
    let last: Result | null = null;
    return waitUntil(
      `exercise check ${n} to pass`,
      async () => {
        last = await this.check(n);
        return last.code === 0 ? last : null;
      },
      {
        timeoutMs,
        everyMs: 1000,
        context: () => `last check:\n${last?.out ?? '(none)'}\n${last?.err ?? ''}\nup's output:\n${this.output()}`,
      },
    );
  }
}

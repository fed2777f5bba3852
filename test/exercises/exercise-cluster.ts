// A learner's cluster for the exercise tests: `raft-otel up` in a temporary data dir on reserved
// ports, the exercise's steps run as the README writes them (through the bin, test/cli/procs.ts),
// and `raft-otel exercise start|check N` against it.
//
// Spans: the nodes of a local cluster without an OTLP endpoint write them as OTLP JSON lines
// (<node dir>/traces/spans.jsonl). Before each check they are read with the shared reader
// (src/traces/otlp.ts) and served through a Jaeger-compatible /api/v3 (test/traces/jaeger-stub.ts,
// which answers as Jaeger v2 does), which `exercise check --traces URL` queries: the same path a
// learner's check takes through the built-in viewer or Jaeger.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCluster } from '../../src/cli/cluster-file.js';
import { parseTraceText, type FlatSpan } from '../../src/traces/otlp.js';
import { agreedLeader, cli, clusterPorts, dataDir, Up, type Result } from '../cli/procs.js';
import { onCleanup } from '../support/processes.js';
import { waitUntil } from '../support/wait.js';
import { JaegerStub } from '../traces/jaeger-stub.js';

/** Export spans every 200 ms (the SDK's default is 5 s) so a check sees a step's spans soon. */
const FAST_EXPORT = { OTEL_BSP_SCHEDULE_DELAY: '200' };

export class ExerciseCluster {
  readonly spans: FlatSpan[] = [];
  private stub: JaegerStub | null = null;
  private up: Up | null = null;

  private constructor(
    readonly dir: string,
    private readonly ports: { http: number; grpc: number },
    readonly nodes: number,
  ) {}

  /** A fresh cluster of `nodes`, its nodes started with `env` (RAFT_* settings), a leader elected. */
  static async start(nodes = 3, env: Record<string, string> = {}): Promise<ExerciseCluster> {
    const c = new ExerciseCluster(dataDir(), await clusterPorts(nodes), nodes);
    c.stub = new JaegerStub(c.spans);
    await c.stub.start();
    onCleanup(() => c.stub?.stop());
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
      ],
      { ...FAST_EXPORT, ...env },
    );
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

  /** Reads every node's exported spans into what the /api/v3 stand-in serves. */
  loadSpans(): void {
    const all: FlatSpan[] = [];
    for (const n of findCluster(this.dir)?.nodes ?? []) {
      let text: string;
      try {
        text = readFileSync(join(n.dataDir, 'traces', 'spans.jsonl'), 'utf8');
      } catch {
        continue; // a node that has exported nothing yet
      }
      // A line being appended right now may be cut short: parse whole lines only.
      const whole = text.slice(0, text.lastIndexOf('\n') + 1);
      if (whole) all.push(...parseTraceText(whole));
    }
    this.spans.splice(0, this.spans.length, ...all);
  }

  /** Waits until the nodes have exported what they had: the span count holds for a second. */
  async settled(): Promise<void> {
    let last = -1;
    await waitUntil(
      'the exported spans to stop growing',
      () => {
        this.loadSpans();
        const same = this.spans.length === last;
        last = this.spans.length;
        return same;
      },
      { timeoutMs: 20_000, everyMs: 1000 },
    );
  }

  /** `raft-otel exercise check N` now. */
  async check(n: number): Promise<Result> {
    this.loadSpans();
    return this.run('exercise', 'check', String(n), '--traces', this.stub!.url);
  }

  /** Checks again until it passes (spans reach the files in batches), or fails with its last output. */
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

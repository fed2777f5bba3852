// Real clusters for tests: each node is its own OS process (`raft-otel node`) on loopback ports,
// in a temporary data directory, so kill -9, SIGSTOP and restarts are the real thing.
//
// Nothing here assumes timing: a node takes seconds to start on a loaded machine, so every step
// waits for what the next one needs (a node serving, a leader known to the node a test talks to)
// with a deadline and an error that names what never came, with the tail of each node's log.
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ClusterControl } from '../../src/check/control.js';
import type { NodeStatus } from '../../src/api/status.js';
import { reservePorts, releasePorts } from '../support/ports.js';
import { EXIT_WITH_PARENT, isRunning, killChild, onCleanup, spawnTracked } from '../support/processes.js';
import { describeError, GiveUp, sleep, waitUntil } from '../support/wait.js';

const MAIN = resolve('bin/raft-otel.mjs');

/** Deadlines, generous for a 2-core machine busy with other work, but bounded. */
export const DEADLINES = {
  /** A node process from spawn to serving HTTP. */
  serving: 45_000,
  /** A cluster from launch to a leader every node knows. */
  start: 60_000,
  /** An election after a failure. */
  leader: 20_000,
  /** One HTTP request to a node. */
  request: 20_000,
  /** A graceful stop (SIGTERM) to the process's exit. */
  gracefulExit: 20_000,
  /** Refused connections retried by a node that has already served (a brief restart of its listener at most). */
  refusedAfterServing: 2_000,
};

/** The system error code (ECONNREFUSED, ECONNRESET...) anywhere in an error's cause chain. */
export function errorCode(e: unknown): string | undefined {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('E')) return code;
  }
  return undefined;
}

/** Loopback ports for test processes; reserved until the test worker exits. */
export async function freePorts(n: number): Promise<number[]> {
  return reservePorts(n);
}

/** What GET /status answers (one type for the CLI, the benchmarks and the tests). */
export type { NodeStatus } from '../../src/api/status.js';

/** An API error body's `error`. */
export interface ApiError {
  code: string;
  message: string;
  leader?: string | null;
  holder?: string;
  steps?: string[];
}

/** The fields the HTTP API answers with, across its endpoints (see the README's API table). */
export interface ApiBody {
  key?: string;
  value?: string;
  index?: number;
  existed?: boolean;
  swapped?: boolean;
  current?: string | null;
  name?: string;
  token?: number;
  held?: boolean;
  owner?: string;
  highestToken?: number;
  members?: { voters: string[]; learners: string[] };
  steps?: string[];
  leader?: string;
  error?: ApiError;
}

export interface ApiResponse {
  status: number;
  /** The JSON body when it is an object, else `{}`. */
  body: ApiBody;
  /** The parsed JSON as it came (null when the body is not JSON). */
  json: unknown;
  text: string;
  headers: Headers;
}

/** Error codes with which the API says a request was not applied, so sending it again is safe. */
export const NOT_APPLIED = new Set([
  'no_leader',
  'not_leader',
  'not_committed',
  'leader_unreachable',
  'leader_unknown_address',
  'read_unavailable',
]);

export interface TestNode {
  id: string;
  http: string;
  grpc: string;
  dataDir: string;
  logFile: string;
  proc: ChildProcess | null;
  args: string[];
  env: Record<string, string>;
  /** Stopped with SIGSTOP and not yet continued. */
  paused?: boolean;
  /** Its current process has answered an HTTP request (reset at each launch). */
  served?: boolean;
}

export interface StartOptions {
  env?: Record<string, string>;
  admin?: boolean;
  extraArgs?: string[];
  /** Environment for one node only (its certificate, say), on top of `env`. */
  nodeEnv?: (id: string) => Record<string, string>;
}

/** A node's start failed because a port was taken after it was chosen: start again elsewhere. */
class PortTaken extends GiveUp {}

export class TestCluster {
  nodes: TestNode[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'raft-cluster-'));
  /** The cluster secret every node is given (RAFT_CLUSTER_SECRET); a test's env may override it. */
  readonly secret = randomBytes(16).toString('hex');
  private readonly removeCleanup = onCleanup(() => this.stop());
  /** Every port reserved for this cluster, also those of nodes a test removed from `nodes`. */
  private readonly ports: number[] = [];

  /** Starts `n` nodes and waits until every one serves and knows the same leader. */
  static async start(n = 3, opts: StartOptions = {}): Promise<TestCluster> {
    for (let attempt = 1; ; attempt++) {
      const c = new TestCluster();
      try {
        await c.boot(n, opts);
        return c;
      } catch (e) {
        await c.stop();
        if (e instanceof PortTaken && attempt < 3) continue;
        throw e;
      }
    }
  }

  private async boot(n: number, opts: StartOptions): Promise<void> {
    const ports = await freePorts(2 * n);
    this.ports.push(...ports);
    const peers = Array.from(
      { length: n },
      (_, i) => `n${i + 1}=127.0.0.1:${ports[2 * i]}/127.0.0.1:${ports[2 * i + 1]}`,
    ).join(',');
    for (let i = 0; i < n; i++) {
      const id = `n${i + 1}`;
      const dataDir = join(this.dir, id);
      this.nodes.push({
        id,
        grpc: `127.0.0.1:${ports[2 * i]}`,
        http: `127.0.0.1:${ports[2 * i + 1]}`,
        dataDir,
        logFile: join(this.dir, `${id}.log`),
        proc: null,
        args: ['--id', id, '--peers', peers, '--data-dir', dataDir, '--admin', String(opts.admin ?? true)],
        env: { RAFT_CLUSTER_SECRET: this.secret, ...opts.env, ...opts.nodeEnv?.(id) },
      });
      this.nodes[i].args.push(...(opts.extraArgs ?? []));
    }
    for (const node of this.nodes) this.launch(node);
    await this.settled(DEADLINES.start);
  }

  /** Starts (or restarts) a node's process. The one place that says how a node is launched. */
  launch(node: TestNode): void {
    const out = openSync(node.logFile, 'a');
    try {
      node.proc = spawnTracked(process.execPath, ['--import', EXIT_WITH_PARENT, MAIN, 'node', ...node.args], {
        stdio: ['ignore', out, out],
        env: { ...process.env, RAFT_LOG_LEVEL: 'info', ...node.env },
      });
    } finally {
      closeSync(out); // the child has its own copy
    }
    node.paused = false;
    node.served = false;
  }

  /** Adds a node that joins as a new member (it is not yet in the configuration). */
  async addProcess(id: string): Promise<TestNode> {
    const [g, h] = await freePorts(2);
    this.ports.push(g, h);
    const members = [...this.nodes.filter((n) => n.proc), { id, grpc: `127.0.0.1:${g}`, http: `127.0.0.1:${h}` }];
    const dataDir = join(this.dir, id);
    const node: TestNode = {
      id,
      grpc: `127.0.0.1:${g}`,
      http: `127.0.0.1:${h}`,
      dataDir,
      logFile: join(this.dir, `${id}.log`),
      proc: null,
      args: [
        '--id',
        id,
        '--peers',
        members.map((m) => `${m.id}=${m.grpc}/${m.http}`).join(','),
        '--data-dir',
        dataDir,
        '--admin',
        'true',
        '--join',
        'true',
      ],
      env: { RAFT_CLUSTER_SECRET: this.secret },
    };
    this.nodes.push(node);
    this.launch(node);
    await this.serving(node);
    return node;
  }

  node(id: string): TestNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id} (nodes: ${this.nodes.map((x) => x.id).join(', ')})`);
    return n;
  }

  /** Running and not paused. */
  live(among?: string[]): TestNode[] {
    return this.nodes.filter((n) => isRunning(n.proc) && !n.paused && (!among || among.includes(n.id)));
  }

  /** The node's /status, or null when it does not answer (not started, killed, paused, slow). */
  async status(node: TestNode, timeoutMs = 2000): Promise<NodeStatus | null> {
    try {
      const r = await fetch(`http://${node.http}/status`, { signal: AbortSignal.timeout(timeoutMs) });
      node.served = true;
      return r.ok ? ((await r.json()) as NodeStatus) : null;
    } catch {
      return null;
    }
  }

  /** The node's /status; an error naming the node when it does not answer. */
  async statusOf(node: TestNode): Promise<NodeStatus> {
    return this.until(() => this.status(node), 5000, `${node.id} to answer /status`);
  }

  /** Polls `fn` until it returns something truthy (see waitUntil); the error carries log tails. */
  async until<T>(
    fn: () => Promise<T | null | false | undefined | 0 | ''> | T | null | false | undefined,
    timeoutMs: number,
    what: string | (() => string),
  ): Promise<T> {
    return waitUntil(what, fn, { timeoutMs, context: () => this.logTails() });
  }

  /** Waits until the node's HTTP API answers; fails at once if its process exits. */
  async serving(node: TestNode, timeoutMs = DEADLINES.serving): Promise<NodeStatus> {
    return this.until(
      async () => {
        this.assertRunning(node, 'while starting');
        const st = await this.status(node);
        if (!st) this.assertPortsFree(node);
        return st;
      },
      timeoutMs,
      `${node.id} to serve HTTP on ${node.http}`,
    );
  }

  /** Waits until the node knows a leader that answers as leader in the same term; returns it. */
  async leaderKnownTo(node: TestNode, timeoutMs = DEADLINES.leader): Promise<TestNode> {
    let seen = 'no answer';
    return this.until(
      async () => {
        this.assertRunning(node, 'while waiting for a leader');
        const st = await this.status(node);
        seen = st ? `${st.role} in term ${st.term}, leader ${st.leader ?? 'unknown'}` : 'no answer';
        if (!st?.leader) return null;
        const leader = this.nodes.find((n) => n.id === st.leader);
        if (!leader) return null;
        const lst = leader === node ? st : await this.status(leader);
        return lst?.role === 'leader' && lst.term === st.term && leader;
      },
      timeoutMs,
      () => `a leader known to ${node.id} (last seen: ${seen})`,
    );
  }

  /** Waits until every running, unpaused node (or those `among`) serves and knows one leader,
   *  which answers as leader in that term; returns it. */
  async settled(timeoutMs = DEADLINES.leader, among?: string[]): Promise<TestNode> {
    let seen = '';
    return this.until(
      async () => {
        // Every node the test started and has not stopped must be there: one that exited (a
        // crash, a port taken) fails the wait at once rather than leaving a smaller cluster.
        const started = this.nodes.filter((n) => n.proc && !n.paused && (!among || among.includes(n.id)));
        for (const n of started) this.assertRunning(n, 'before the cluster settled');
        const live = this.live(among);
        const sts = await Promise.all(live.map((n) => this.status(n)));
        for (const [i, n] of live.entries()) if (!sts[i]) this.assertPortsFree(n);
        seen = this.describe(live, sts);
        const ids = new Set(sts.map((s) => s?.leader ?? null));
        if (ids.size !== 1 || sts.some((s) => !s)) return null;
        const leaderId = sts[0]!.leader;
        const leaderSt =
          sts.find((s) => s!.id === leaderId) ?? (leaderId ? await this.status(this.node(leaderId)) : null);
        return leaderSt?.role === 'leader' && sts.every((s) => s!.term === leaderSt.term) && this.node(leaderSt.id);
      },
      timeoutMs,
      () => `every node to serve and know one leader (last seen: ${seen})`,
    );
  }

  /** Waits until exactly one of the running, unpaused nodes (or those `among`) is leader, in a
   *  term no other answering node has passed; returns it. */
  async waitForLeader(timeoutMs = DEADLINES.leader, among?: string[]): Promise<TestNode> {
    let seen = '';
    return this.until(
      async () => {
        const live = this.live(among);
        const sts = await Promise.all(live.map((n) => this.status(n)));
        seen = this.describe(live, sts);
        const leaders = sts.filter((s) => s?.role === 'leader');
        if (leaders.length !== 1) return null;
        const top = Math.max(...sts.map((s) => s?.term ?? 0));
        return leaders[0]!.term === top && this.node(leaders[0]!.id);
      },
      timeoutMs,
      () => `a leader${among ? ` among ${among.join(', ')}` : ''} (last seen: ${seen})`,
    );
  }

  private describe(nodes: TestNode[], sts: (NodeStatus | null)[]): string {
    return nodes
      .map((n, i) => {
        const s = sts[i];
        return s ? `${n.id} ${s.role} t${s.term} leader=${s.leader ?? '-'}` : `${n.id} no answer`;
      })
      .join('; ');
  }

  private assertRunning(node: TestNode, when: string): void {
    if (node.proc && !isRunning(node.proc)) {
      const how = node.proc.signalCode ? `signal ${node.proc.signalCode}` : `code ${node.proc.exitCode}`;
      this.assertPortsFree(node);
      const log = this.log(node);
      throw new GiveUp(`${node.id} exited (${how}) ${when}:\n${log.split('\n').slice(-15).join('\n')}`);
    }
  }

  /** A node that does not answer may have found a port taken between the moment it was chosen and
   *  its bind (another run, a leftover process): start() then starts the cluster again elsewhere.
   *  Only called for nodes that do not answer, whose logs are short. */
  private assertPortsFree(node: TestNode): void {
    const line = this.log(node)
      .split('\n')
      .find((l) => l.includes('EADDRINUSE'));
    if (line) throw new PortTaken(`${node.id} could not bind its port: ${line}`);
  }

  /** One HTTP request. A node whose process runs but does not listen yet (it is starting) is
   *  retried until it does; once that process has answered, a refused connection is retried only
   *  briefly (it stopped listening: a bug to report, not a start-up to wait out). Nothing else is
   *  retried: the caller sees what the node answered. */
  async request(
    node: TestNode,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> {
    const servedBefore = node.served === true;
    const deadline = Date.now() + (servedBefore ? DEADLINES.refusedAfterServing : DEADLINES.serving);
    for (;;) {
      let res: Response;
      try {
        res = await fetch(`http://${node.http}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...headers },
          body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
          signal: AbortSignal.timeout(DEADLINES.request),
        });
      } catch (e) {
        const refused = errorCode(e) === 'ECONNREFUSED';
        if (refused && isRunning(node.proc) && !node.paused && Date.now() < deadline) {
          await sleep(50);
          continue;
        }
        const state = isRunning(node.proc) ? 'running' : 'not running';
        const why =
          refused && servedBefore && isRunning(node.proc)
            ? ` (it served before and stopped listening; refused for ${DEADLINES.refusedAfterServing} ms)`
            : '';
        throw new Error(`${method} ${path} to ${node.id} (${node.http}, ${state}) failed${why}: ${describeError(e)}`, {
          cause: e,
        });
      }
      node.served = true;
      const text = await res.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      const obj = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as ApiBody) : {};
      return { status: res.status, body: obj, json, text, headers: res.headers };
    }
  }

  /** Sends to the current leader, and again (to whoever leads then) only when that cannot apply the
   *  request twice: the answer says it was not applied (an election under way, leadership moved),
   *  or the connection was refused (nothing was sent). A request that failed in flight (a reset, a
   *  timeout) is sent again only when repeating it is harmless: a GET, or a write with an
   *  Idempotency-Key; any other write gives up at once, its outcome unknown. A leader whose process
   *  died on its own (a crash, not a kill by the test) ends the wait at once with its log. */
  async leaderRequest(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    timeoutMs = DEADLINES.leader,
  ): Promise<ApiResponse & { node: TestNode }> {
    const repeatable =
      method.toUpperCase() === 'GET' || Object.keys(headers).some((h) => h.toLowerCase() === 'idempotency-key');
    let last = '';
    return this.until(
      async () => {
        const leader = await this.waitForLeader(timeoutMs);
        let r: ApiResponse;
        try {
          r = await this.request(leader, method, path, body, headers);
        } catch (e) {
          last = `${leader.id} failed: ${describeError(e)}`;
          await this.exitSoon(leader);
          this.assertRunning(leader, `during ${method} ${path}`);
          if (errorCode(e) === 'ECONNREFUSED' || repeatable) throw e; // "not yet": sent again
          throw new GiveUp(
            `${method} ${path} to ${leader.id} failed in flight and has no Idempotency-Key: ` +
              `it may or may not have been applied, so it is not sent again: ${describeError(e)}`,
          );
        }
        last = `${leader.id} answered ${r.status} ${r.text.slice(0, 200)}`;
        return !NOT_APPLIED.has(r.body.error?.code ?? '') && { ...r, node: leader };
      },
      timeoutMs,
      () => `${method} ${path} to be answered by a leader (last: ${last})`,
    );
  }

  /** A connection broken by its server's death is often reported before the death itself (the
   *  child's exit event): gives that event a moment, so a crash is named as one. */
  private async exitSoon(node: TestNode, ms = 300): Promise<void> {
    const p = node.proc;
    if (!p || !isRunning(p)) return;
    await new Promise<void>((done) => {
      const exited = () => {
        clearTimeout(timer);
        done();
      };
      const timer = setTimeout(() => {
        p.off('exit', exited);
        done();
      }, ms);
      p.once('exit', exited);
    });
  }

  /** Runs `body` with the leader of a settled cluster. Raft lets leadership move at any moment (a
   *  loaded machine can starve a leader past its election timeout), and a test of what a steady
   *  leader does asserts nothing about that: when `body` fails and another node now leads in a
   *  later term while the old leader still answers (as a follower), it runs again with the new
   *  leader and the next `attempt` number (for fresh keys), up to `attempts` times. Any other
   *  failure is reported as is: the same leader led throughout, or the old leader does not answer
   *  (a crash or hang is a bug, not a move). Not for bodies that themselves move leadership. */
  async withSteadyLeader<T>(body: (leader: TestNode, attempt: number) => Promise<T>, attempts = 3): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const leader = await this.settled();
      const term = (await this.statusOf(leader)).term;
      try {
        return await body(leader, attempt);
      } catch (e) {
        const moved = await this.leadershipMoved(leader, term);
        if (!moved || attempt >= attempts) throw e;
        console.log(
          `leadership moved during the test (${leader.id} led term ${term}; ${moved}); ` +
            `running it again (attempt ${attempt + 1} of ${attempts}) after: ${describeError(e)}`,
        );
      }
    }
  }

  /** How leadership moved away from `leader` (which led `term`), or null when it did not: the old
   *  leader answers, in a later term, and another node answers as leader of a term after `term`. */
  async leadershipMoved(leader: TestNode, term: number): Promise<string | null> {
    const now = await this.status(leader);
    if (!now || now.term <= term || now.role === 'leader') return null;
    const others = this.live().filter((n) => n !== leader);
    const sts = await Promise.all(others.map((n) => this.status(n)));
    const next = sts.find((s) => s?.role === 'leader' && s.term > term);
    return next ? `${leader.id} is now ${now.role} in term ${now.term}, ${next.id} leads term ${next.term}` : null;
  }

  put(node: TestNode, key: string, value: string): Promise<ApiResponse> {
    return this.request(node, 'PUT', `/kv/${encodeURIComponent(key)}`, { value });
  }

  get(node: TestNode, key: string, query = ''): Promise<ApiResponse> {
    return this.request(node, 'GET', `/kv/${encodeURIComponent(key)}${query}`);
  }

  /** Kills the node's process and waits for its exit; returns its exit code. A graceful signal
   *  (SIGTERM) that does not end it within a deadline is an error (and the node is killed). */
  async kill(node: TestNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const p = node.proc;
    if (!p) throw new Error(`${node.id} is not running: nothing to kill`);
    node.proc = null;
    node.paused = false;
    if (signal === 'SIGKILL') return killChild(p);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((done) => (timer = setTimeout(() => done('late'), DEADLINES.gracefulExit)));
    const code = await Promise.race([killChild(p, signal), late]);
    clearTimeout(timer);
    if (code === 'late') {
      await killChild(p);
      throw new Error(`${node.id} did not exit within ${DEADLINES.gracefulExit} ms of ${signal}\n${this.logTails()}`);
    }
    return code;
  }

  signal(node: TestNode, signal: NodeJS.Signals): void {
    const p = node.proc;
    if (!p || !isRunning(p)) throw new Error(`${node.id} is not running: cannot send ${signal}`);
    p.kill(signal);
    if (signal === 'SIGSTOP') node.paused = true;
    if (signal === 'SIGCONT') node.paused = false;
  }

  /** Starts a stopped node again on its ports and data directory; waits until it serves. */
  async restart(node: TestNode): Promise<void> {
    if (isRunning(node.proc)) throw new Error(`${node.id} is still running: kill it before restarting`);
    this.launch(node);
    await this.serving(node);
  }

  log(node: TestNode): string {
    try {
      return readFileSync(node.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** The node's structured log lines (JSON), those with `event` when given. */
  logEvents(node: TestNode, event?: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of this.log(node).split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        if (!event || rec.event === event) out.push(rec);
      } catch {
        /* a line cut short by a kill -9 */
      }
    }
    return out;
  }

  /** Waits until a node's process exits by itself (e.g. refusing to start); returns its exit code. */
  async exited(node: TestNode, timeoutMs = DEADLINES.serving): Promise<number | null> {
    const p = node.proc;
    if (!p) throw new Error(`${node.id} was not started`);
    await this.until(() => !isRunning(p), timeoutMs, `${node.id} to exit`);
    node.proc = null;
    return p.exitCode;
  }

  logTails(lines = 8): string {
    return this.nodes
      .map((n) => {
        const state = !n.proc
          ? 'stopped'
          : isRunning(n.proc)
            ? n.paused
              ? 'paused'
              : 'running'
            : `exited: ${n.proc.signalCode ?? `code ${n.proc.exitCode}`}`;
        return `--- ${n.id} (${state}, ${n.logFile})\n${this.log(n).split('\n').slice(-lines).join('\n')}`;
      })
      .join('\n');
  }

  /** Kills every node, gives the ports back and removes the data (RAFT_TEST_KEEP_DATA=1 keeps it). */
  async stop(): Promise<void> {
    this.removeCleanup();
    await Promise.all(
      this.nodes.map(async (n) => {
        const p = n.proc;
        n.proc = null;
        n.paused = false;
        if (p) await killChild(p);
      }),
    );
    releasePorts(this.ports);
    if (!process.env.RAFT_TEST_KEEP_DATA) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The nemesis's and benchmarks' handle on a TestCluster. */
export function controlOf(c: TestCluster): ClusterControl {
  return {
    members: () => c.nodes.map((n) => ({ id: n.id, http: n.http })),
    running: (id) => c.node(id).proc !== null,
    kill: async (id) => {
      await c.kill(c.node(id));
    },
    restart: (id) => c.restart(c.node(id)),
    pause: (id) => c.signal(c.node(id), 'SIGSTOP'),
    resume: (id) => c.signal(c.node(id), 'SIGCONT'),
    chaos: async (id, settings) => {
      const r = await fetch(`http://${c.node(id).http}/admin/chaos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(settings),
        signal: AbortSignal.timeout(2000),
      });
      if (!r.ok) throw new Error(`chaos on ${id}: HTTP ${r.status}`);
    },
  };
}

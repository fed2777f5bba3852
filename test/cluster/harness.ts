// Real clusters for tests: each node is its own OS process (`raft-otel node`) on loopback ports,
// in a temporary data directory, so kill -9, SIGSTOP and restarts are the real thing.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve('bin/raft-otel.mjs');

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<import('node:net').Server>((ok) => {
          const s = createServer();
          s.listen(0, '127.0.0.1', () => ok(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  return ports;
}

export interface TestNode {
  id: string;
  http: string;
  grpc: string;
  dataDir: string;
  logFile: string;
  proc: ChildProcess | null;
  args: string[];
  env: Record<string, string>;
}

export class TestCluster {
  nodes: TestNode[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'raft-cluster-'));
  /** The cluster secret every node is given (RAFT_CLUSTER_SECRET); a test's env may override it. */
  readonly secret = randomBytes(16).toString('hex');

  static async start(
    n = 3,
    opts: {
      env?: Record<string, string>;
      admin?: boolean;
      extraArgs?: string[];
      /** Environment for one node only (its certificate, say), on top of `env`. */
      nodeEnv?: (id: string) => Record<string, string>;
    } = {},
  ): Promise<TestCluster> {
    const c = new TestCluster();
    const ports = await freePorts(2 * n);
    const peers = Array.from(
      { length: n },
      (_, i) => `n${i + 1}=127.0.0.1:${ports[2 * i]}/127.0.0.1:${ports[2 * i + 1]}`,
    ).join(',');
    for (let i = 0; i < n; i++) {
      const id = `n${i + 1}`;
      const dataDir = join(c.dir, id);
      const node: TestNode = {
        id,
        grpc: `127.0.0.1:${ports[2 * i]}`,
        http: `127.0.0.1:${ports[2 * i + 1]}`,
        dataDir,
        logFile: join(c.dir, `${id}.log`),
        proc: null,
        args: [
          '--id',
          id,
          '--peers',
          peers,
          '--data-dir',
          dataDir,
          '--admin',
          String(opts.admin ?? true),
          ...(opts.extraArgs ?? []),
        ],
        env: { RAFT_CLUSTER_SECRET: c.secret, ...opts.env, ...opts.nodeEnv?.(id) },
      };
      c.nodes.push(node);
    }
    for (const node of c.nodes) c.launch(node);
    try {
      await c.waitForLeader();
    } catch (e) {
      // The caller never gets the cluster, so it cannot stop it: do it here, or the nodes outlive the test.
      await c.stop();
      throw e;
    }
    return c;
  }

  /** Starts (or restarts) a node's process. */
  launch(node: TestNode): void {
    const out = openSync(node.logFile, 'a');
    node.proc = spawn(process.execPath, [MAIN, 'node', ...node.args], {
      stdio: ['ignore', out, out],
      env: { ...process.env, RAFT_LOG_LEVEL: 'info', ...node.env },
    });
  }

  /** Adds a node that joins as a new member (it is not yet in the configuration). */
  async addProcess(id: string): Promise<TestNode> {
    const [g, h] = await freePorts(2);
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
    await this.until(async () => (await this.status(node)) !== null, 15_000, `${id} to start`);
    return node;
  }

  node(id: string): TestNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  async status(node: TestNode): Promise<any | null> {
    try {
      const r = await fetch(`http://${node.http}/status`, { signal: AbortSignal.timeout(500) });
      return r.ok ? await r.json() : null;
    } catch {
      return null;
    }
  }

  async until<T>(fn: () => Promise<T | null | false | undefined>, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.logTails()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until the running nodes agree on one leader; returns it. */
  async waitForLeader(timeoutMs = 20_000, among?: string[]): Promise<TestNode> {
    return this.until(
      async () => {
        const live = this.nodes.filter((n) => n.proc && (!among || among.includes(n.id)));
        const sts = await Promise.all(live.map((n) => this.status(n)));
        const leaders = sts.filter((s) => s?.role === 'leader');
        if (leaders.length !== 1) return null;
        return this.node(leaders[0].id);
      },
      timeoutMs,
      'a leader',
    );
  }

  async request(node: TestNode, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`http://${node.http}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: json, text, headers: res.headers };
  }

  put(node: TestNode, key: string, value: string) {
    return this.request(node, 'PUT', `/kv/${encodeURIComponent(key)}`, { value });
  }

  get(node: TestNode, key: string, query = '') {
    return this.request(node, 'GET', `/kv/${encodeURIComponent(key)}${query}`);
  }

  kill(node: TestNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const p = node.proc!;
    node.proc = null;
    return new Promise((ok) => {
      if (p.exitCode !== null || p.signalCode !== null) return ok(p.exitCode);
      p.once('exit', (code) => ok(code));
      p.kill(signal);
    });
  }

  signal(node: TestNode, signal: NodeJS.Signals): void {
    node.proc!.kill(signal);
  }

  async restart(node: TestNode): Promise<void> {
    this.launch(node);
    await this.until(async () => (await this.status(node)) !== null, 15_000, `${node.id} to come back`);
  }

  log(node: TestNode): string {
    try {
      return readFileSync(node.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  logTails(): string {
    return this.nodes.map((n) => `--- ${n.id}\n${this.log(n).split('\n').slice(-8).join('\n')}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes
        .filter((n) => n.proc)
        .map((n) => {
          n.proc!.kill('SIGCONT');
          return this.kill(n, 'SIGKILL');
        }),
    );
  }
}

/** The nemesis's and benchmarks' handle on a TestCluster. */
export function controlOf(c: TestCluster): import('../../src/check/control.js').ClusterControl {
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

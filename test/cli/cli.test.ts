// The newcomer's path, end to end: `raft-otel up` starts a cluster and names its leader; the other
// commands find it through cluster.json; Ctrl-C stops every node; a second `up` resumes the data.
//
// The commands do not retry (a person reads the error and tries again), so before each command
// that needs a leader the test waits until every node knows the same one, with a deadline.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { releasePorts, reservePorts } from '../support/ports.js';
import { isRunning, killChild, spawnTracked, withExitGuard } from '../support/processes.js';
import { waitUntil } from '../support/wait.js';
import { agreedLeader as agreedLeaderOf } from './procs.js';

const MAIN = resolve('bin/raft-otel.mjs');
const dataDir = mkdtempSync(join(tmpdir(), 'raft-cli-'));

interface ClusterJson {
  nodes: { id: string; http: string; pid: number }[];
}
interface StatusRow {
  id: string;
  status: { role: string; leader: string | null } | null;
}

const clusterFile = () => JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as ClusterJson;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args, '--data-dir', dataDir], {
    encoding: 'utf8',
    timeout: 60_000,
    env: withExitGuard(process.env), // the nodes `restart` starts die with this worker
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The one leader every running node knows (procs.ts), with up's output if it never comes. */
const agreedLeader = (up: Up) => agreedLeaderOf(dataDir, () => `up's output:\n${up.out}`);

/** `raft-otel up`, with its output collected. */
class Up {
  out = '';
  readonly proc: ChildProcess;
  constructor(http: number, grpc: number) {
    this.proc = spawnTracked(
      process.execPath,
      [MAIN, 'up', '--data-dir', dataDir, '--http-port', String(http), '--grpc-port', String(grpc)],
      { env: withExitGuard(process.env) },
    ); // its nodes die with this worker, even if no clean-up runs
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
  }
  /** Where the output is now: waitFor(..., mark) looks only at what comes after. */
  mark(): number {
    return this.out.length;
  }
  async waitFor(re: RegExp, from = 0, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return waitUntil(`${re} in the output of up`, () => this.out.slice(from).match(re), {
      timeoutMs,
      context: () => `up's output:\n${this.out}`,
    });
  }
  /** Ctrl-C; resolves with the exit code. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    const exited = killChild(this.proc, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((done) => (timer = setTimeout(() => done('late'), timeoutMs)));
    const code = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (code === 'late') throw new Error(`up did not exit within ${timeoutMs} ms of Ctrl-C; its output:\n${this.out}`);
    return code;
  }
}

let up: Up | null = null;
let ports: number[] = [];

// Whatever happens in the test: stop `up`, then any node it started (they run detached, so its
// death alone does not end them), and give the ports and the data directory back.
const cleanUp = async () => {
  if (up && isRunning(up.proc)) await up.stop().catch(() => killChild(up!.proc));
  try {
    for (const n of clusterFile().nodes) if (n.pid && alive(n.pid)) process.kill(n.pid, 'SIGKILL');
  } catch {
    /* no cluster.json: no nodes were started */
  }
  releasePorts(ports);
  if (!process.env.RAFT_TEST_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
};
afterAll(cleanUp);

describe('raft-otel up and the commands that use it', () => {
  it('runs a cluster a newcomer can use, hurt, stop and resume', async () => {
    const http = await reservePorts(3, true);
    const grpc = await reservePorts(3, true);
    ports = [...http, ...grpc];
    up = new Up(http[0], grpc[0]);
    await up.waitFor(/Leader elected: (n\d) \(term \d+\)/);
    expect(up.out).toContain(`http://127.0.0.1:${http[0]}`);
    expect(up.out).toContain('curl -X PUT');
    const cluster = clusterFile();
    expect(cluster.nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n3']);
    expect(cluster.nodes[2].http).toBe(`127.0.0.1:${http[2]}`);

    const leader = await agreedLeader(up);
    const status = cli('status', '--json');
    const st = JSON.parse(status.out) as StatusRow[];
    expect(st.map((s) => s.id)).toEqual(['n1', 'n2', 'n3']);
    expect(st.filter((s) => s.status?.role === 'leader').map((s) => s.id)).toHaveLength(1);
    expect(st.map((s) => s.status?.leader)).toContain(leader);

    const put = cli('kv', 'put', 'greeting', 'hello');
    expect(put.out, put.err).toMatch(/^ok, index \d+/);
    expect(cli('kv', 'get', 'greeting').out).toMatch(/^hello/);
    const cas = cli('kv', 'cas', 'greeting', 'hello', 'hi');
    expect(cas.out, cas.err).toMatch(/swapped/);
    const missing = cli('kv', 'get', 'nothing');
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/404 key_not_found/);

    // Kill the leader: `up` reports it and the new leader; the data survives.
    const victim = await agreedLeader(up);
    let mark = up.mark();
    expect(cli('kill', victim).out).toMatch(new RegExp(`killed ${victim}`));
    await up.waitFor(new RegExp(`${victim} exited \\(signal SIGKILL\\)`), mark);
    await up.waitFor(new RegExp(`leader is now (?!${victim})n\\d`), mark);
    await agreedLeader(up);
    const got = cli('kv', 'get', 'greeting');
    expect(got.out, got.err).toMatch(/^hi/);
    mark = up.mark();
    expect(cli('restart', victim).out).toMatch(new RegExp(`restarted ${victim}`));
    await up.waitFor(new RegExp(`${victim} is back`), mark);

    // Partition, chaos, heal, transfer.
    const cut = await agreedLeader(up);
    mark = up.mark();
    const rest = ['n1', 'n2', 'n3'].filter((x) => x !== cut).join(',');
    expect(cli('partition', cut, rest).out).toMatch(/partitioned/);
    await up.waitFor(new RegExp(`leader is now (?!${cut})n\\d`), mark);
    expect(cli('heal').out).toMatch(/healed/);
    expect(cli('chaos', '--delay', '1-3').out).toMatch(/delay 1-3 ms/);
    expect(cli('chaos', '--off').code).toBe(0);
    const current = await agreedLeader(up);
    const target = ['n1', 'n2', 'n3'].find((id) => id !== current)!;
    const t = cli('transfer-leadership', '--to', target);
    expect(t.out, t.err).toMatch(new RegExp(`leader is now ${target}`));

    // Help and errors say what to do.
    expect(cli('kill', 'n9').err).toMatch(/no node "n9".*nodes are n1, n2, n3/);
    expect(cli('status', '--help').out).toMatch(/raft-otel status/);

    // Ctrl-C stops every node; a second `up` resumes the same cluster with its data.
    expect(await up.stop()).toBe(0);
    expect(up.out).toMatch(/Stopped\. The data stays in/);
    for (const { id, pid } of clusterFile().nodes) expect(alive(pid), `${id} (pid ${pid}) still runs`).toBe(false);

    up = new Up(http[0], grpc[0]);
    await up.waitFor(/Resuming the cluster/);
    await up.waitFor(/Leader elected/);
    await agreedLeader(up);
    expect(cli('kv', 'get', 'greeting').out).toMatch(/^hi/);
    expect(await up.stop()).toBe(0);
  }, 240_000);
});

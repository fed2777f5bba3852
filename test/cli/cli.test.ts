// The newcomer's path, end to end: `raft-otel up` starts a cluster and names its leader; the other
// commands find it through cluster.json; Ctrl-C stops every node; a second `up` resumes the data.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = resolve('bin/raft-otel.mjs');
const dataDir = mkdtempSync(join(tmpdir(), 'raft-cli-'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args, '--data-dir', dataDir], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A base port with `n` consecutive free ports after it. */
async function consecutiveFree(n: number): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const ok = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<boolean>((res) => {
            const s = createServer();
            s.once('error', () => res(false));
            s.listen(base + i, '127.0.0.1', () => s.close(() => res(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return base;
  }
}

class Up {
  out = '';
  readonly proc: ChildProcess;
  constructor(http: number, grpc: number) {
    this.proc = spawn(process.execPath, [
      MAIN,
      'up',
      '--data-dir',
      dataDir,
      '--http-port',
      String(http),
      '--grpc-port',
      String(grpc),
    ]);
    this.proc.stdout!.on('data', (d) => (this.out += d));
    this.proc.stderr!.on('data', (d) => (this.out += d));
  }
  async waitFor(re: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.out.match(re);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`no ${re} in:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  stop(): Promise<number | null> {
    return new Promise((ok) => {
      this.proc.once('exit', ok);
      this.proc.kill('SIGINT');
    });
  }
}

let up: Up | null = null;
afterAll(async () => {
  if (up && up.proc.exitCode === null) await up.stop();
});

describe('raft-otel up and the commands that use it', () => {
  it('runs a cluster a newcomer can use, hurt, stop and resume', async () => {
    const http = await consecutiveFree(4);
    const grpc = await consecutiveFree(4);
    up = new Up(http, grpc);
    const [, leader] = await up.waitFor(/Leader elected: (n\d) \(term \d+\)/);
    expect(up.out).toContain(`http://127.0.0.1:${http}`);
    expect(up.out).toContain('curl -X PUT');
    const cluster = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8'));
    expect(cluster.nodes.map((n: { id: string }) => n.id)).toEqual(['n1', 'n2', 'n3']);
    expect(cluster.nodes[2].http).toBe(`127.0.0.1:${http + 2}`);

    const st = JSON.parse(cli('status', '--json').out);
    expect(st.filter((s: any) => s.status?.role === 'leader').map((s: any) => s.id)).toEqual([leader]);

    expect(cli('kv', 'put', 'greeting', 'hello').out).toMatch(/^ok, index \d+/);
    expect(cli('kv', 'get', 'greeting').out).toMatch(/^hello/);
    expect(cli('kv', 'cas', 'greeting', 'hello', 'hi').out).toMatch(/swapped/);
    const missing = cli('kv', 'get', 'nothing');
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/404 key_not_found/);

    // Kill the leader: `up` reports it and the new leader; the data survives.
    expect(cli('kill', leader).out).toMatch(new RegExp(`killed ${leader}`));
    await up.waitFor(new RegExp(`${leader} exited \\(signal SIGKILL\\)`));
    const [, next] = await up.waitFor(/leader is now (n\d)/);
    expect(next).not.toBe(leader);
    expect(cli('kv', 'get', 'greeting').out).toMatch(/^hi/);
    expect(cli('restart', leader).out).toMatch(new RegExp(`restarted ${leader}`));
    await up.waitFor(new RegExp(`${leader} is back`));

    // Partition, chaos, heal, transfer.
    expect(
      cli(
        'partition',
        next,
        'n1,n2,n3'
          .split(',')
          .filter((x) => x !== next)
          .join(','),
      ).out,
    ).toMatch(/partitioned/);
    await up.waitFor(new RegExp(`leader is now (?!${next})n\\d`), 10_000);
    expect(cli('heal').out).toMatch(/healed/);
    expect(cli('chaos', '--delay', '1-3').out).toMatch(/delay 1-3 ms/);
    expect(cli('chaos', '--off').code).toBe(0);
    const current = JSON.parse(cli('status', '--json').out).find((s: any) => s.status?.role === 'leader').id;
    const target = ['n1', 'n2', 'n3'].find((id) => id !== current)!;
    const t = cli('transfer-leadership', '--to', target);
    expect(t.out, t.err).toMatch(new RegExp(`leader is now ${target}`));

    // Help and errors say what to do.
    expect(cli('kill', 'n9').err).toMatch(/no node "n9".*nodes are n1, n2, n3/);
    expect(cli('status', '--help').out).toMatch(/raft-otel status/);

    // Ctrl-C stops every node; a second `up` resumes the same cluster with its data.
    expect(await up.stop()).toBe(0);
    expect(up.out).toMatch(/Stopped\. The data stays in/);
    const pids = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')).nodes.map(
      (n: { pid: number }) => n.pid,
    );
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();

    up = new Up(http, grpc);
    await up.waitFor(/Resuming the cluster/);
    await up.waitFor(/Leader elected/);
    expect(cli('kv', 'get', 'greeting').out).toMatch(/^hi/);
    expect(await up.stop()).toBe(0);
  }, 120_000);
});

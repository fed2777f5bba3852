// Three etcd members on loopback, with etcd's default timing (heartbeat 100 ms, election 1 s), for
// the side-by-side benchmark. Writes go through etcd's own HTTP/JSON API, the gRPC gateway's
// `POST /v3/kv/put` with base64 key and value: like raft-otel's API it is HTTP/1.1 + JSON from the
// client's side, so one load generator drives both. (The gateway turns each request into a gRPC call
// inside the same etcd process: that costs etcd some CPU that a native gRPC client would not.)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { send, type WriteTarget } from './closed-loop.js';
import { sleep, waitLeader, type BenchCluster, type BenchNode } from './bench-cluster.js';

const ETCD = '/usr/bin/etcd';

/** Installs Debian's etcd-server when /usr/bin/etcd is missing (needs root and the apt sources). */
export function ensureEtcd(log: (line: string) => void): string {
  if (existsSync(ETCD)) return ETCD;
  log('etcd is not installed: apt-get install -y etcd-server');
  const install = () => spawnSync('apt-get', ['install', '-y', 'etcd-server'], { stdio: 'inherit' }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    if (!install())
      throw new Error(
        'could not install etcd-server with apt-get (run as root, or install it yourself: apt-get install etcd-server)',
      );
  }
  if (!existsSync(ETCD)) throw new Error(`etcd-server is installed but ${ETCD} is missing`);
  return ETCD;
}

export const etcdTarget: WriteTarget = {
  method: 'POST',
  encode: (key, value) => ({
    path: '/v3/kv/put',
    body: JSON.stringify({
      key: Buffer.from(key).toString('base64'),
      value: Buffer.from(value).toString('base64'),
    }),
  }),
  // A successful put answers 200 with a header; an error answers with {error, code}.
  ok: (status, body) => status === 200 && body.includes('"header"'),
};

interface Member {
  id: string;
  client: number;
  peer: number;
  args: string[];
  child: ChildProcess | null;
  memberId: string;
}

export class EtcdCluster implements BenchCluster {
  readonly name = 'etcd';
  readonly target = etcdTarget;
  private members: Member[];

  private constructor(
    private readonly dir: string,
    basePort: number,
  ) {
    const ids = ['e1', 'e2', 'e3'];
    const initial = ids.map((id, i) => `${id}=http://127.0.0.1:${basePort + 10 + i}`).join(',');
    this.members = ids.map((id, i) => {
      const client = basePort + i;
      const peer = basePort + 10 + i;
      return {
        id,
        client,
        peer,
        memberId: '',
        child: null,
        args: [
          `--name=${id}`,
          `--data-dir=${join(dir, id)}`,
          `--listen-client-urls=http://127.0.0.1:${client}`,
          `--advertise-client-urls=http://127.0.0.1:${client}`,
          `--listen-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-cluster=${initial}`,
          '--initial-cluster-state=new',
          '--initial-cluster-token=raft-otel-bench',
          '--logger=zap',
          '--log-level=warn',
        ],
      };
    });
  }

  static async start(dir: string, basePort: number, bin: string): Promise<EtcdCluster> {
    const c = new EtcdCluster(dir, basePort);
    for (const m of c.members) c.spawn(m, bin);
    await waitLeader(c, 30_000);
    return c;
  }

  private bin = ETCD;

  private spawn(m: Member, bin = this.bin): void {
    this.bin = bin;
    mkdirSync(this.dir, { recursive: true });
    const out = openSync(join(this.dir, `${m.id}.log`), 'a');
    m.child = spawn(bin, m.args, { stdio: ['ignore', out, out] });
    closeSync(out);
  }

  nodes(): BenchNode[] {
    return this.members.map((m) => ({ id: m.id, http: `127.0.0.1:${m.client}` }));
  }

  /** Asks each running member for its status: the one whose own id is the leader's id leads. */
  async leader(): Promise<string | null> {
    const answers = await Promise.all(
      this.members
        .filter((m) => m.child)
        .map(async (m) => {
          try {
            const r = await send(`127.0.0.1:${m.client}`, 'POST', '/v3/maintenance/status', '{}', 500);
            const s = JSON.parse(r.body) as { header?: { member_id?: string }; leader?: string };
            if (s.header?.member_id) m.memberId = s.header.member_id;
            return s.leader && s.leader === s.header?.member_id ? m.id : null;
          } catch {
            return null;
          }
        }),
    );
    return answers.find((a) => a !== null) ?? null;
  }

  pid(id: string): number {
    return this.member(id).child?.pid ?? 0;
  }

  async kill(id: string): Promise<void> {
    const m = this.member(id);
    const child = m.child;
    if (!child) return;
    m.child = null;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  }

  async restart(id: string): Promise<void> {
    const m = this.member(id);
    if (m.child) return;
    this.spawn(m);
    const deadline = performance.now() + 20_000;
    for (;;) {
      try {
        const r = await send(`127.0.0.1:${m.client}`, 'GET', '/health', undefined, 500);
        if (r.status === 200) return;
      } catch {
        /* not serving yet */
      }
      if (performance.now() > deadline) throw new Error(`etcd ${id} did not serve within 20 s after a restart`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m.id)));
  }

  private member(id: string): Member {
    const m = this.members.find((x) => x.id === id);
    if (!m) throw new Error(`no etcd member ${id}`);
    return m;
  }
}

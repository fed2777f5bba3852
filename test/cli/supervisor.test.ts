// The supervisor (`raft-otel up`) cannot be wedged and does not lie, on real processes:
// - a deleted cluster.json hides nothing: `up` writes it again; with `up` killed too, `down` still
//   stops every node, and a new `up` refuses to start over running nodes;
// - ports in use: `up` fails at once naming the port and its holder, and starts nothing; another
//   cluster on the ports is never reported as this one;
// - a node that dies at start (a damaged WAL): `restart` and `up` say so with the log's message
//   and exit non-zero.
import { readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portFree } from '../../src/cli/ports.js';
import { agreedLeader, alive, cleanUp, cli, clusterPorts, dataDir, nodePids, until, Up } from './procs.js';

afterEach(cleanUp);

async function cluster(fresh = false): Promise<{ dir: string; http: number; grpc: number; up: Up }> {
  // fresh: a data dir that does not exist yet, as for a first `npm start`.
  const dir = dataDir(fresh);
  const { http, grpc } = await clusterPorts(3);
  const up = new Up(['--data-dir', dir, '--http-port', String(http), '--grpc-port', String(grpc)]);
  await up.waitFor(/Leader elected: n\d \(term \d+\)/);
  return { dir, http, grpc, up };
}

describe('raft-otel up keeps track of its nodes', () => {
  it('survives a deleted cluster.json, and down stops every node even with up and cluster.json gone', async () => {
    const { dir, http, grpc, up } = await cluster();
    const pids = nodePids(dir);
    expect(Object.keys(pids).sort()).toEqual(['n1', 'n2', 'n3']);

    rmSync(join(dir, 'cluster.json'));
    await up.waitFor(/cluster\.json was deleted or damaged: written again/, 5000);
    const st = await cli(['status', '--json', '--data-dir', dir]);
    expect(st.code, st.err).toBe(0);
    expect((JSON.parse(st.out) as { state: string }[]).map((r) => r.state)).toEqual(['up', 'up', 'up']);

    // A second cluster on the same ports is refused before it starts anything, naming n1's process.
    const other = dataDir();
    const second = await cli(['up', '--data-dir', other, '--http-port', String(http), '--grpc-port', String(grpc)]);
    expect(second.code).toBe(1);
    expect(second.err).toContain(`port ${http} (n1's HTTP API) is in use by pid ${pids.n1}`);
    expect(second.err).toMatch(/--id n1/);
    expect(nodePids(other)).toEqual({});

    // The supervisor dies without cleaning up, and cluster.json goes too: the nodes are still found.
    up.proc.kill('SIGKILL');
    await up.exited();
    rmSync(join(dir, 'cluster.json'));
    const again = await cli(['up', '--data-dir', dir, '--http-port', String(http), '--grpc-port', String(grpc)]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already running \(n1 pid \d+, n2 pid \d+, n3 pid \d+\)/);
    const down = await cli(['down', '--data-dir', dir]);
    expect(down.code, down.err).toBe(0);
    expect(down.out).toMatch(/stopped n1, n2, n3/);
    for (const pid of Object.values(pids)) expect(alive(pid)).toBe(false);
  }, 90_000);

  it('down stops the up that runs the cluster, which stops its nodes and exits 0', async () => {
    const { dir, up } = await cluster(true);
    const pids = Object.values(nodePids(dir));
    const down = await cli(['down', '--data-dir', dir]);
    expect(down.code, down.err).toBe(0);
    expect(down.out).toMatch(/stopped n1, n2, n3 \(and the up that ran them, pid \d+\)/);
    expect(await up.exited()).toBe(0);
    expect(up.out).toContain(`npm start -- --data-dir ${dir}\` resumes this cluster`);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 60_000);

  it('fails within seconds when a port is in use, naming it and its holder, and starts nothing', async () => {
    const dir = dataDir();
    const { http, grpc } = await clusterPorts(3);
    const squatter: Server = createServer();
    await new Promise<void>((ok) => squatter.listen(grpc + 1, '127.0.0.1', ok));
    try {
      const r = await cli(['up', '--data-dir', dir, '--http-port', String(http), '--grpc-port', String(grpc)]);
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(5000);
      expect(r.err).toContain(`port ${grpc + 1} (n2's gRPC) is in use by pid ${process.pid}`);
      expect(r.err).toMatch(/--http-port .* --grpc-port/);
      expect(nodePids(dir)).toEqual({});
    } finally {
      await new Promise((ok) => squatter.close(ok));
    }
  }, 30_000);
});

describe('a node that dies at start is reported, with its log', () => {
  it('restart exits 1 naming the port when the HTTP port of the node was taken meanwhile; the node does not linger', async () => {
    const { dir, http } = await cluster();
    expect((await cli(['kill', 'n2', '--data-dir', dir])).code).toBe(0);
    // kill returns once the signal is sent: the port is free when the process is gone.
    await until(
      `n2's HTTP port ${http + 1} to be released`,
      async () => ((await portFree('127.0.0.1', http + 1)) ? true : null),
      5000,
    );
    // It accepts and drops every connection: a port that is taken, by something that is not a node.
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((ok, fail) => {
      squatter.once('error', fail);
      squatter.listen(http + 1, '127.0.0.1', ok);
    });
    try {
      const r = await cli(['restart', 'n2', '--data-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /n2 exited at start \(code 1\): the HTTP API cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/,
      );
      expect(alive(nodePids(dir).n2)).toBe(false);
    } finally {
      await new Promise((ok) => squatter.close(ok));
    }
    const again = await cli(['restart', 'n2', '--data-dir', dir]);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/restarted n2 \(pid \d+\): serving as \w+ in term \d+/);
  }, 60_000);

  function damageWal(nodeDir: string): void {
    const wal = readdirSync(nodeDir).find((f) => f.startsWith('wal-'));
    if (!wal) throw new Error(`no WAL in ${nodeDir}`);
    const buf = readFileSync(join(nodeDir, wal));
    buf[12] ^= 0xff; // damage followed by intact records: the node must refuse to serve
    writeFileSync(join(nodeDir, wal), buf);
  }

  it('restart exits 1 with the storage error; up stops and exits 1 when a node cannot start', async () => {
    const { dir, http, grpc, up } = await cluster();
    // "Leader elected" is one node's word: kv put needs a leader every node knows.
    await agreedLeader(dir, () => `up's output:\n${up.out}`);
    for (let i = 0; i < 5; i++) {
      const w = await cli(['kv', 'put', `k${i}`, 'v', '--data-dir', dir]);
      expect(w.code, w.err).toBe(0);
    }
    const victim = 'n2';
    expect((await cli(['kill', victim, '--data-dir', dir])).code).toBe(0);
    await up.waitFor(new RegExp(`${victim} exited \\(signal SIGKILL\\); last lines of .*node\\.log`), 5000);
    damageWal(join(dir, victim));

    const mark = up.mark();
    const r = await cli(['restart', victim, '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`${victim} exited at start \\(code 1\\): storage is damaged in the middle`));
    expect(r.err).toMatch(/last lines of .*node\.log/);
    // `up` reported the exit (above) and keeps to it: the restarted process came and went without
    // serving, so `up` never calls the victim back. Proof that it looked after the restart: pausing
    // n3 is reported by a poll that checked every node after the failed restart, in id order, so any
    // word on n2 from that poll comes before it.
    expect((await cli(['pause', 'n3', '--data-dir', dir])).code).toBe(0);
    await up.waitFor(/n3 is paused/, 10_000, mark);
    expect((await cli(['resume', 'n3', '--data-dir', dir])).code).toBe(0);
    expect(up.out.slice(mark)).not.toMatch(new RegExp(`${victim} is back`));
    expect(up.out.match(new RegExp(`${victim} exited \\(`, 'g'))).toHaveLength(1);

    up.proc.kill('SIGINT');
    expect(await up.exited()).toBe(0);
    const again = new Up(['--data-dir', dir, '--http-port', String(http), '--grpc-port', String(grpc)]);
    expect(await again.exited(30_000)).toBe(1);
    // The node recorded the damage at the failed restart (its DAMAGED marker, which holds the time
    // and the first error): now it refuses at once, quoting that record.
    expect(again.out).toMatch(
      new RegExp(
        `${victim} exited at start \\(code 1\\): this data directory \\(.*\\) was found damaged before: .*storage is damaged in the middle`,
      ),
    );
    expect(again.out).toMatch(/The cluster cannot start/);
    await until('every node to be stopped', () => (Object.values(nodePids(dir)).some(alive) ? null : true));
  }, 90_000);
});

// A raft-otel cluster of three nodes on loopback for the side-by-side benchmark, started the way a
// user starts one (`raft-otel up`, compiled code, default timing), with the environment given
// (tracing settings, an OTLP endpoint, NODE_OPTIONS for --cpu-prof).
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { findLeader, type ClusterControl } from '../check/control.js';
import { findNode, readCluster } from '../cli/cluster-file.js';
import { localControl } from '../cli/local-control.js';
import type { WriteTarget } from './closed-loop.js';
import type { BenchCluster, BenchNode } from './bench-cluster.js';

export const raftTarget: WriteTarget = {
  method: 'PUT',
  encode: (key, value) => ({ path: `/kv/${encodeURIComponent(key)}`, body: JSON.stringify({ value }) }),
  ok: (status) => status === 200,
};

export class RaftOtelCluster implements BenchCluster {
  readonly target = raftTarget;
  private readonly control: ClusterControl;

  private constructor(
    readonly name: string,
    private readonly dataDir: string,
    private readonly up: ChildProcess,
  ) {
    this.control = localControl(dataDir);
  }

  static async start(
    name: string,
    dataDir: string,
    ports: { http: number; grpc: number },
    env: Record<string, string>,
  ): Promise<RaftOtelCluster> {
    const up = spawn(
      process.execPath,
      [
        resolve('bin/raft-otel.mjs'),
        'up',
        '--data-dir',
        dataDir,
        '--http-port',
        String(ports.http),
        '--grpc-port',
        String(ports.grpc),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    );
    let log = '';
    up.stdout.on('data', (d: Buffer) => (log += d.toString()));
    up.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = performance.now() + 60_000;
    while (!/Leader elected/.test(log)) {
      if (up.exitCode !== null) throw new Error(`raft-otel up exited (${up.exitCode}):\n${log}`);
      if (performance.now() > deadline) {
        up.kill('SIGINT');
        throw new Error(`raft-otel up: no leader within 60 s:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return new RaftOtelCluster(name, dataDir, up);
  }

  nodes(): BenchNode[] {
    return this.control.members();
  }

  leader(): Promise<string | null> {
    return findLeader(this.control, 500);
  }

  pid(id: string): number {
    return this.control.running(id) ? findNode(readCluster(this.dataDir), id).pid : 0;
  }

  kill(id: string): Promise<void> {
    return this.control.kill(id);
  }

  restart(id: string): Promise<void> {
    return this.control.restart(id);
  }

  /** Ctrl-C to `up`: the nodes stop cleanly (and write their --cpu-prof profiles, if asked to). */
  async stop(): Promise<void> {
    if (this.up.exitCode !== null) return;
    const exited = new Promise((r) => this.up.once('exit', r));
    this.up.kill('SIGINT');
    await exited;
  }
}

// The latency floor of this machine, measured in the same run as the clusters: what one write
// through a leader cannot avoid. A leader acknowledges a write once a majority has it on disk: its
// own fsync runs in parallel with the round trip to a follower, which fsyncs before it answers, so
// the floor is about one fsync of a small append plus one gRPC round trip between two processes.
import { spawn } from 'node:child_process';
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, credentials } from '@grpc/grpc-js';
import { summarize, type Summary } from '../check/stats.js';
import { ECHO_PATH } from './grpc-echo.js';

/** fdatasync after each append of `bytes` to a file in `dir` (the disk the nodes' data lives on). */
export function fsyncFloor(dir: string, count = 300, bytes = 160): Summary {
  const path = join(dir, 'fsync-floor.bin');
  const fd = openSync(path, 'a');
  const record = Buffer.alloc(bytes, 7);
  const times: number[] = [];
  try {
    for (let i = 0; i < count + 20; i++) {
      const t0 = performance.now();
      writeSync(fd, record);
      fdatasyncSync(fd);
      if (i >= 20) times.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  return summarize(times);
}

export interface GrpcFloor {
  /** One call in flight at a time. */
  serial: Summary;
  /** Calls per second with 64 in flight. */
  throughput64: number;
}

/** Unary calls with a 100-byte message to a bare grpc-js server in another process. */
export async function grpcFloor(count = 1000): Promise<GrpcFloor> {
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./grpc-echo.ts', import.meta.url))],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^(\d+)\n/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      server.once('exit', (code) => reject(new Error(`the gRPC echo server exited (${code})`)));
    });
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    const msg = Buffer.alloc(100, 1);
    const call = () =>
      new Promise<void>((resolve, reject) =>
        client.makeUnaryRequest(
          ECHO_PATH,
          (b: Buffer) => b,
          (b: Buffer) => b,
          msg,
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    for (let i = 0; i < 200; i++) await call(); // connect, warm up
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await call();
      times.push(performance.now() - t0);
    }
    let done = 0;
    let running = true;
    const t0 = performance.now();
    const loop = async () => {
      while (running) {
        await call();
        done++;
      }
    };
    const loops = Array.from({ length: 64 }, loop);
    await new Promise((r) => setTimeout(r, 2000));
    running = false;
    await Promise.all(loops);
    const throughput64 = done / ((performance.now() - t0) / 1000);
    client.close();
    return { serial: summarize(times), throughput64 };
  } finally {
    server.stdin.end();
    server.kill();
  }
}

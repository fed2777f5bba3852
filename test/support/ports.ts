// Loopback ports for test processes, chosen so that two test runs at once (other worktrees,
// the repeat script, a leftover node) do not collide:
// - below Linux's ephemeral range (32768+), so an outgoing connection of any process cannot take
//   a port between the moment it is chosen and the moment a node binds it;
// - checked free by binding it;
// - reserved across processes by a file in /tmp/raft-otel-test-ports (O_EXCL) holding the
//   owner's pid, so a port whose node is down for a restart is not handed to another run
//   meanwhile. A reservation whose owner is dead is stale and reclaimed.
// No randomness: each process starts its scan at an offset derived from its pid.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const LOW = 12_000;
const HIGH = 32_000;
// Fixed, not os.tmpdir(): runs with different TMPDIRs (scripts/repeat-suite.mjs) must see each other.
const DIR = '/tmp/raft-otel-test-ports';
const mine = new Set<number>();
let next = LOW + ((process.pid * 7919) % (HIGH - LOW));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function reserve(port: number): boolean {
  mkdirSync(DIR, { recursive: true });
  const file = join(DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      mine.add(port);
      return true;
    } catch {
      let owner: number;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        continue; // released meanwhile: try again
      }
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
      rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  return false;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once('error', () => done(false));
    s.listen(port, '127.0.0.1', () => s.close(() => done(true)));
  });
}

/** Reserves and returns `n` ports, consecutive when asked (`raft-otel up` numbers its nodes'
 *  ports from a base). */
export async function reservePorts(n: number, consecutive = false): Promise<number[]> {
  for (let tries = 0; tries < HIGH - LOW; tries++) {
    if (next + n > HIGH) next = LOW;
    const start = next;
    const candidates = consecutive ? Array.from({ length: n }, (_, i) => start + i) : [start];
    next = start + candidates.length;
    const got: number[] = [];
    for (const p of candidates) {
      if (!reserve(p)) break;
      got.push(p);
    }
    if (got.length === candidates.length && (await Promise.all(got.map(bindable))).every(Boolean)) {
      if (!consecutive && n > 1) return [...got, ...(await reservePorts(n - 1))];
      return got;
    }
    releasePorts(got);
  }
  throw new Error(`no ${n} free loopback ports between ${LOW} and ${HIGH}`);
}

/** Gives reserved ports back. */
export function releasePorts(ports: Iterable<number>): void {
  for (const p of ports) {
    if (!mine.delete(p)) continue;
    rmSync(join(DIR, String(p)), { force: true });
  }
}

/** Gives back every port this process reserved (when a test file ends; its processes are gone). */
export function releaseAllPorts(): void {
  releasePorts([...mine]);
}

// A worker that exits normally; one that is killed leaves stale reservations, reclaimed later.
process.once('exit', releaseAllPorts);

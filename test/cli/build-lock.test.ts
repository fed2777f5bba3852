// The build lock (scripts/build.mjs): a build interrupted by Ctrl-C leaves dist/.build-lock behind.
// The lock names its builder's pid, so the next command sees that builder is gone and builds at
// once, instead of waiting a minute in silence for a lock nobody will release.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, lockPid, staleLock } from '../../scripts/build.mjs';

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  if (!r.pid) throw new Error('could not start a short-lived process');
  return r.pid;
}

function lockIn(content: string, ageMs = 0): string {
  const dir = mkdtempSync(join(tmpdir(), 'raft-lock-'));
  const lock = join(dir, '.build-lock');
  writeFileSync(lock, content);
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(lock, t, t);
  return lock;
}

describe('the build lock', () => {
  it('is stale at once when its pid is dead, and held while its pid lives', () => {
    const dead = deadPid();
    expect(lockPid(lockIn(`${dead}\n`))).toBe(dead);
    expect(staleLock(lockIn(`${dead}\n`))).toBe(true);
    expect(staleLock(lockIn(`${process.pid}\n`))).toBe(false);
    // A live builder is waited for however long it takes.
    expect(staleLock(lockIn(`${process.pid}\n`, 5 * 60_000))).toBe(false);
  });

  it('without a pid (being written, or from an older version), is stale only after a minute', () => {
    expect(staleLock(lockIn(''))).toBe(false);
    expect(staleLock(lockIn('', 61_000))).toBe(true);
    expect(staleLock(join(tmpdir(), 'no-such-dir', '.build-lock'))).toBe(false);
  });

  it('a lock left by a dead build does not hold the next build back', async () => {
    const root = mkdtempSync(join(tmpdir(), 'raft-build-'));
    mkdirSync(join(root, 'src', 'cli'), { recursive: true });
    writeFileSync(
      join(root, 'src', 'cli', 'main.ts'),
      'export async function main(): Promise<number> {\n  return 0;\n}\n',
    );
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist', '.build-lock'), `${deadPid()}\n`);
    const t0 = Date.now();
    const main = await ensureBuilt(root);
    expect(main).toBe(join(root, 'dist', 'src', 'cli', 'main.js'));
    expect(existsSync(main!)).toBe(true);
    expect(existsSync(join(root, 'dist', '.build-lock'))).toBe(false);
    expect(Date.now() - t0, 'ensureBuilt waited for a dead build').toBeLessThan(10_000);
  }, 30_000);
});

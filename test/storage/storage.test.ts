// Durable storage: what is acknowledged survives, torn tails are cut and reported, damage in the
// middle stops the node, compaction bounds disk use, and faults can be injected.
import { constants } from 'node:fs';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readyWith, type Entry, type HardState, type Ready, type Snapshot } from '../../src/raft/types.js';
import { DiskStorage } from '../../src/storage/storage.js';
import { StorageCorruptionError, StorageWriteError } from '../../src/storage/errors.js';

const conf = { voters: ['n1', 'n2', 'n3'], learners: [] };
const entry = (index: number, term = 1, data = `cmd-${index}`): Entry => ({
  index,
  term,
  type: 'normal',
  data,
  context: `00-${index}-ctx`,
});

function ready(over: Partial<Ready>): Ready {
  return readyWith({ mustSync: true, ...over });
}

async function fresh() {
  const dir = await mkdtemp(join(tmpdir(), 'raft-storage-'));
  // Removed when the test ends (on Linux, also fine while a test's storage is still open).
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const { storage, loaded } = await DiskStorage.open(dir, conf);
  return { dir, storage, loaded };
}

async function walFile(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.startsWith('wal-')).sort();
  return join(dir, names[names.length - 1]);
}

describe('DiskStorage', () => {
  it('recovers hard state, entries (with their trace context) and snapshots', async () => {
    const { dir, storage } = await fresh();
    const hs: HardState = { term: 3, votedFor: 'n2', commit: 2 };
    await storage.persist(ready({ hardState: hs, entries: [entry(1), entry(2), entry(3)] }));
    // A follower overwrites a conflicting suffix: entries from 3 on are replaced.
    await storage.persist(ready({ entries: [entry(3, 3, 'new-3'), entry(4, 3)] }));
    await storage.close();
    const { storage: reopened, loaded } = await DiskStorage.open(dir, conf);
    await reopened.close();
    expect(loaded.notes).toEqual([]);
    expect(loaded.state.hardState).toEqual(hs);
    expect(loaded.state.entries.map((e) => [e.index, e.term, e.data])).toEqual([
      [1, 1, 'cmd-1'],
      [2, 1, 'cmd-2'],
      [3, 3, 'new-3'],
      [4, 3, 'cmd-4'],
    ]);
    expect(loaded.state.entries[0].context).toBe('00-1-ctx');
  });

  it('acknowledges only after fsync, and a commit index alone is not written', async () => {
    const { storage } = await fresh();
    onTestFinished(() => storage.close());
    await storage.persist(ready({ hardState: { term: 1, votedFor: 'n1', commit: 0 } }));
    expect(storage.stats.fsyncs).toBe(1);
    await storage.persist(ready({ hardState: { term: 1, votedFor: 'n1', commit: 5 }, mustSync: false }));
    expect(storage.stats.fsyncs).toBe(1);
    storage.faults.slowFsyncMs = 60;
    const t0 = performance.now();
    await storage.persist(ready({ entries: [entry(1)] }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    expect(storage.stats.fsyncs).toBe(2);
  });

  it('writes every WAL segment through O_DSYNC, the first and one a compaction starts (Linux)', async () => {
    if (process.platform !== 'linux') return;
    const { storage } = await fresh();
    onTestFinished(() => storage.close());
    // The open file's flags, as the kernel holds them (octal): a write returns only once durable.
    const dsync = async () => {
      const fd = (storage as unknown as { wal: FileHandle }).wal.fd;
      const flags = parseInt(/flags:\s+([0-7]+)/.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'utf8'))![1], 8);
      return (flags & constants.O_DSYNC) === constants.O_DSYNC;
    };
    expect(await dsync()).toBe(true);
    await storage.persist(ready({ hardState: { term: 1, votedFor: 'n1', commit: 1 }, entries: [entry(1), entry(2)] }));
    const snapshot: Snapshot = { index: 1, term: 1, conf, data: '{}' };
    await storage.persist(ready({ snapshot }));
    expect((storage as unknown as { walSeq: number }).walSeq).toBe(2);
    expect(await dsync()).toBe(true);
  });

  it('truncates a torn tail (an unfinished write) and reports it', async () => {
    const { dir, storage } = await fresh();
    await storage.persist(ready({ hardState: { term: 2, votedFor: 'n1', commit: 0 }, entries: [entry(1), entry(2)] }));
    await storage.persist(ready({ entries: [entry(3)] }));
    await storage.close();
    const wal = await walFile(dir);
    const full = await readFile(wal);
    // The crash came in the middle of the last record: cut it short.
    await writeFile(wal, full.subarray(0, full.length - 7));
    const { storage: s1, loaded } = await DiskStorage.open(dir, conf);
    await s1.close();
    expect(loaded.state.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(loaded.state.hardState.term).toBe(2);
    expect(loaded.notes).toHaveLength(1);
    expect(loaded.notes[0]).toMatch(/truncated a torn tail of \d+ bytes .*never acknowledged/);
    // The damage is gone for good: the next start is clean.
    const again = await DiskStorage.open(dir, conf);
    await again.storage.close();
    expect(again.loaded.notes).toEqual([]);
  });

  // A checksum-failing last record is damage, not a torn tail: see test/storage/damage.test.ts.
  it('treats a zero-filled last record as torn', async () => {
    for (const damage of ['zeros'] as const) {
      const { dir, storage } = await fresh();
      await storage.persist(ready({ hardState: { term: 1, votedFor: null, commit: 0 }, entries: [entry(1)] }));
      await storage.close();
      const wal = await walFile(dir);
      await appendFile(wal, Buffer.alloc(64));
      const { storage: s3, loaded } = await DiskStorage.open(dir, conf);
      await s3.close();
      expect(
        loaded.state.entries.map((e) => e.index),
        damage,
      ).toEqual([1]);
      expect(loaded.notes[0], damage).toMatch(/torn tail/);
    }
  });

  it('refuses to start when damage is followed by intact records', async () => {
    const { dir, storage } = await fresh();
    await storage.persist(ready({ hardState: { term: 1, votedFor: null, commit: 0 }, entries: [entry(1)] }));
    await storage.persist(ready({ entries: [entry(2)] }));
    await storage.persist(ready({ entries: [entry(3)] }));
    await storage.close();
    const wal = await walFile(dir);
    const buf = await readFile(wal);
    buf[20] ^= 0xff; // inside the first record
    await writeFile(wal, buf);
    const err: unknown = await DiskStorage.open(dir, conf).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptionError);
    const { message } = err as StorageCorruptionError;
    expect(message).toMatch(/damaged in the middle of wal-000001\.log at byte 0 \(checksum mismatch\)/);
    expect(message).toMatch(/must not serve/);
    // Nothing was truncated: the evidence is kept.
    expect((await readFile(wal)).length).toBe(buf.length);
  });

  it('compacts after a snapshot so disk use stays bounded', async () => {
    const { dir, storage } = await fresh();
    const sizes: number[] = [];
    let index = 0;
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 200; i++) {
        index++;
        await storage.persist(
          ready({ hardState: { term: 1, votedFor: 'n1', commit: index }, entries: [entry(index, 1, 'x'.repeat(200))] }),
        );
      }
      const snap: Snapshot = { index: index - 10, term: 1, conf, data: JSON.stringify({ round }) };
      await storage.persist(ready({ snapshot: snap }));
      sizes.push(await storage.diskBytes());
    }
    // Without compaction the log would hold 1,600 entries (~400 kB); it holds the last 10.
    expect(Math.max(...sizes)).toBeLessThan(20_000);
    expect((await readdir(dir)).filter((n) => n.startsWith('wal-') || n.startsWith('snap-'))).toHaveLength(2);
    await storage.close();
    const { storage: s4, loaded } = await DiskStorage.open(dir, conf);
    await s4.close();
    expect(loaded.state.snapshot?.index).toBe(index - 10);
    expect(loaded.state.snapshot?.data).toBe(JSON.stringify({ round: 7 }));
    expect(loaded.state.entries.map((e) => e.index)).toEqual(Array.from({ length: 10 }, (_, i) => index - 9 + i));
  });

  it('replaces the whole log with a snapshot installed from the leader', async () => {
    const { dir, storage } = await fresh();
    await storage.persist(
      ready({ hardState: { term: 1, votedFor: null, commit: 0 }, entries: [entry(1), entry(2), entry(3)] }),
    );
    await storage.persist(
      ready({
        snapshot: { index: 50, term: 4, conf, data: '{}' },
        restoreStateMachine: true,
        hardState: { term: 4, votedFor: null, commit: 50 },
      }),
    );
    await storage.persist(ready({ entries: [entry(51, 4)] }));
    await storage.close();
    const { storage: s5, loaded } = await DiskStorage.open(dir, conf);
    await s5.close();
    expect(loaded.state.snapshot?.index).toBe(50);
    expect(loaded.state.entries.map((e) => e.index)).toEqual([51]);
    expect(loaded.state.hardState.commit).toBe(50);
  });

  it('fails loudly, and for good, when writes fail', async () => {
    const { storage } = await fresh();
    onTestFinished(() => storage.close());
    storage.faults.failWrites = true;
    const err: unknown = await storage.persist(ready({ entries: [entry(1)] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageWriteError);
    expect((err as StorageWriteError).message).toMatch(/injected disk fault.*must not acknowledge anything/);
    storage.faults.failWrites = false;
    await expect(storage.persist(ready({ entries: [entry(1)] }))).rejects.toBe(err);
  });

  it('ignores a half-written snapshot file left by a crash', async () => {
    const { dir, storage } = await fresh();
    await storage.persist(ready({ hardState: { term: 1, votedFor: null, commit: 0 }, entries: [entry(1)] }));
    await storage.close();
    await writeFile(join(dir, 'snap-000000000009.snap.tmp'), 'partial');
    const { storage: s6, loaded } = await DiskStorage.open(dir, conf);
    await s6.close();
    expect(loaded.state.snapshot).toBeNull();
    await expect(stat(join(dir, 'snap-000000000009.snap.tmp'))).rejects.toThrow();
  });
});

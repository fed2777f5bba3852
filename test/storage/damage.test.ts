// The WAL tells a torn write from a damaged record. A torn write (an append a crash interrupted:
// short, or zero-filled) was never fsynced, so never acknowledged: it is cut off. A complete record
// whose checksum fails was written and synced, perhaps acknowledged: that is damage, and a node
// with damage never serves under its id again, not even after a restart.
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readyWith, type Entry, type Ready } from '../../src/raft/types.js';
import { DiskStorage } from '../../src/storage/storage.js';
import { DamagedServerError, StorageCorruptionError } from '../../src/storage/errors.js';
import { encodeRecord } from '../../src/storage/records.js';

const conf = { voters: ['n1', 'n2', 'n3'], learners: [] };
const entry = (index: number): Entry => ({ index, term: 1, type: 'normal', data: `cmd-${index}`, context: '' });
const ready = (over: Partial<Ready>): Ready =>
  readyWith({ hardState: { term: 1, votedFor: null, commit: 0 }, mustSync: true, ...over });

/** A data dir with entries 1..3, one record each; returns the WAL's path and the 3rd record's start. */
async function threeRecords(): Promise<{ dir: string; wal: string; lastStart: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'raft-damage-'));
  const { storage } = await DiskStorage.open(dir, conf);
  for (const i of [1, 2, 3]) await storage.persist(ready({ entries: [entry(i)] }));
  await storage.close();
  const wal = join(
    dir,
    (await readdir(dir)).find((f) => f.startsWith('wal-'))!,
  );
  const buf = await readFile(wal);
  const lastLen = encodeRecord({ hs: { term: 1, votedFor: null, commit: 0 }, ents: [entry(3)] }).length;
  return { dir, wal, lastStart: buf.length - lastLen };
}

async function reopen(dir: string) {
  const { storage, loaded } = await DiskStorage.open(dir, conf);
  await storage.close();
  return loaded;
}

describe('torn tails are cut', () => {
  const torn: [string, (buf: Buffer, lastStart: number) => Buffer][] = [
    ['half a record', (b, s) => b.subarray(0, s + 11)],
    ['half a header', (b, s) => b.subarray(0, s + 5)],
    [
      'a record whose payload the crash left as zeros',
      (b, s) => Buffer.concat([b.subarray(0, s + 8 + 4), Buffer.alloc(b.length - s - 12)]),
    ],
    ['zeros where the next record should start', (b) => Buffer.concat([b, Buffer.alloc(40)])],
  ];
  for (const [what, tear] of torn) {
    it(what, async () => {
      const { dir, wal, lastStart } = await threeRecords();
      await writeFile(wal, tear(await readFile(wal), lastStart));
      const loaded = await reopen(dir);
      const kept = what.startsWith('zeros where') ? [1, 2, 3] : [1, 2];
      expect(loaded.state.entries.map((e) => e.index)).toEqual(kept);
      expect(loaded.notes[0]).toMatch(/torn tail/);
    });
  }
});

describe('damage is never mistaken for a torn tail', () => {
  it('a bit flip in the last complete record stops the node, and a restart refuses too', async () => {
    const { dir, wal, lastStart } = await threeRecords();
    const buf = await readFile(wal);
    buf[lastStart + 20] ^= 0x04;
    await writeFile(wal, buf);
    const err = (await DiskStorage.open(dir, conf).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(StorageCorruptionError);
    expect(err.message).toMatch(/damaged in the last record of wal-000001\.log .*checksum mismatch/);
    expect(err.message).toMatch(/Replacing a damaged server/);
    // Nothing was cut: the evidence stays.
    expect((await readFile(wal)).length).toBe(buf.length);
    // Even with the damaged record removed by hand, this directory never serves again.
    await writeFile(wal, buf.subarray(0, lastStart));
    const again = (await DiskStorage.open(dir, conf).catch((e: unknown) => e)) as Error;
    expect(again).toBeInstanceOf(DamagedServerError);
    expect(again.message).toMatch(/found damaged before: .*checksum mismatch/);
    // Only removing the marker by hand reopens it (unsupported: README "Replacing a damaged server").
    await rm(join(dir, 'DAMAGED'));
    expect((await reopen(dir)).state.entries.map((e) => e.index)).toEqual([1, 2]);
  });

  it('a damaged length field of the last record is damage, not a short write', async () => {
    const { dir, wal, lastStart } = await threeRecords();
    const buf = await readFile(wal);
    buf.writeUInt32LE(buf.readUInt32LE(lastStart) + 1000, lastStart);
    await writeFile(wal, buf);
    await expect(DiskStorage.open(dir, conf)).rejects.toBeInstanceOf(StorageCorruptionError);
  });

  it('garbage after the last record is damage', async () => {
    const { dir, wal } = await threeRecords();
    await appendFile(wal, Buffer.from('this is not a record at all, and not zeros'));
    await expect(DiskStorage.open(dir, conf)).rejects.toBeInstanceOf(StorageCorruptionError);
  });
});

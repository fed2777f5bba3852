// A damaged length field must not pass for a torn tail. When a bit flip makes a record's length
// point past the end of the newest segment, the records after it are still there, intact, fsynced
// and perhaps acknowledged: recovery must refuse (damage), not cut the file at the damaged record.
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readyWith, type Entry, type Ready } from '../../src/raft/types.js';
import { DiskStorage } from '../../src/storage/storage.js';
import { DamagedServerError, StorageCorruptionError } from '../../src/storage/errors.js';
import { HEADER_BYTES } from '../../src/storage/records.js';

const conf = { voters: ['n1', 'n2', 'n3'], learners: [] };
const entry = (index: number): Entry => ({ index, term: 1, type: 'normal', data: `cmd-${index}`, context: '' });
const ready = (over: Partial<Ready>): Ready =>
  readyWith({ hardState: { term: 1, votedFor: null, commit: 0 }, mustSync: true, ...over });

/** A data dir whose WAL holds entries 1..3, one record each; returns where each record starts. */
async function threeRecords(): Promise<{ dir: string; wal: string; starts: number[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'raft-damage-len-'));
  const { storage } = await DiskStorage.open(dir, conf);
  for (const i of [1, 2, 3]) await storage.persist(ready({ entries: [entry(i)] }));
  await storage.close();
  const wal = join(
    dir,
    (await readdir(dir)).find((f) => f.startsWith('wal-'))!,
  );
  const buf = await readFile(wal);
  const starts: number[] = [];
  for (let off = 0; off < buf.length; off += HEADER_BYTES + buf.readUInt32LE(off)) starts.push(off);
  expect(starts.length, 'the WAL should hold one record per persist').toBe(3);
  return { dir, wal, starts };
}

describe('a damaged length field is damage, not a torn tail', () => {
  // Bits that make record 2's length point past the end of the file yet stay below the largest
  // possible record (a length beyond that was always refused): the case that used to be cut.
  for (const bit of [9, 16, 20, 24, 27]) {
    it(`flipping bit ${bit} of record 2's length refuses to start and cuts nothing`, async () => {
      const { dir, wal, starts } = await threeRecords();
      const buf = await readFile(wal);
      const len = buf.readUInt32LE(starts[1]);
      buf.writeUInt32LE((len ^ (1 << bit)) >>> 0, starts[1]);
      expect(
        starts[1] + HEADER_BYTES + buf.readUInt32LE(starts[1]),
        'the flip must point past the end',
      ).toBeGreaterThan(buf.length);
      await writeFile(wal, buf);

      const err = (await DiskStorage.open(dir, conf).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(StorageCorruptionError);
      // Record 3 follows intact: the message must not call this the last record.
      expect(err.message).toMatch(new RegExp(`damaged in the middle of wal-000001\\.log at byte ${starts[1]}`));
      // Nothing was cut: record 3 (acknowledged) is still on disk, byte for byte.
      expect(await readFile(wal)).toEqual(buf);
      expect((await readdir(dir)).includes('DAMAGED')).toBe(true);
      // A second start refuses too, and says how to replace the server once, not twice.
      const again = (await DiskStorage.open(dir, conf).catch((e: unknown) => e)) as Error;
      expect(again).toBeInstanceOf(DamagedServerError);
      expect(again.message.split('Replacing a damaged server').length - 1).toBe(1);
    });
  }
});

describe('a DAMAGED marker that cannot be written', () => {
  it('does not replace the corruption error', async () => {
    const { dir, wal, starts } = await threeRecords();
    const buf = await readFile(wal);
    buf[starts[1] + HEADER_BYTES + 3] ^= 0x01; // record 2's payload: a checksum mismatch mid-file
    await writeFile(wal, buf);
    // A directory where the marker file should go: reading it finds no marker, writing it fails.
    await mkdir(join(dir, 'DAMAGED'));

    const err = (await DiskStorage.open(dir, conf).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(StorageCorruptionError);
    expect(err.message).toMatch(/damaged in the middle of wal-000001\.log .*checksum mismatch/);
    expect(err.message).toMatch(/DAMAGED marker could not be written: .*EISDIR/);
    expect(await readFile(wal)).toEqual(buf);
  });
});

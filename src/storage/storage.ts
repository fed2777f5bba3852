// A node's durable state: its hard state (term, vote, commit), its log entries (with their trace
// context) and its latest snapshot, in one directory:
//
//   <dir>/wal-000007.log     the write-ahead log: one checksummed record per Ready
//   <dir>/snap-000000420.snap the latest snapshot (same record format)
//
// The rule that makes recovery trustworthy: every WAL record is durable before persist() resolves
// (the WAL is opened with O_DSYNC: a write returns once its data is on disk, as a write followed by
// fdatasync would, in one system call and one trip to the thread pool instead of two), and nothing
// is written without that sync (a change of the commit index alone waits for
// the next synced record; it is learned again from the leader anyway). So only the last record
// can be torn by a crash (short, or zero-filled), and that record was never acknowledged: it is
// truncated and reported. Any other failure, a complete record whose checksum fails included, is
// damage to data that may have been acknowledged: the node refuses to start, writes a DAMAGED
// marker so it never serves under its id again, and says how to replace it.
//
// Group commit comes from the runtime: while one persist() is waiting for its fsync, new
// proposals pile up in the core and leave together in the next Ready, one record, one fsync.
import { open, readFile, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfState, Entry, HardState, InitialState, Ready, Snapshot } from '../raft/types.js';
import { HEADER_BYTES, decodeRecord, encodeRecord, intactRecordAfter, isTornTail } from './records.js';
import { DAMAGE_MARKER, DamagedServerError, StorageCorruptionError, StorageWriteError } from './errors.js';

/** One WAL record: what one Ready asked to persist. */
interface WalRecord {
  /** The hard state as of this record (always present). */
  hs: HardState;
  /** Entries to store, replacing any stored at or after the first one's index. */
  ents?: Entry[];
  /** A snapshot was saved (in its own file): entries it covers are obsolete; with `replaces`
   *  (installed from the leader) every stored entry is. */
  snap?: { index: number; term: number; replaces: boolean };
  /** The first record of a segment written by compaction: the state starts from this snapshot. */
  base?: { snapshotIndex: number };
}

/** Faults a test or an exercise can switch on at run time. */
export interface DiskFaults {
  /** Extra milliseconds every fsync takes. */
  slowFsyncMs: number;
  /** Make every write fail, as a full or dying disk would. */
  failWrites: boolean;
}

export interface StorageStats {
  fsyncs: number;
  records: number;
  entriesWritten: number;
  /** Total fsync time in ms, and the last one. */
  fsyncMsTotal: number;
  lastFsyncMs: number;
  walBytes: number;
}

export interface LoadResult {
  state: InitialState;
  /** Human-readable notes about what recovery found (a truncated torn tail, for instance). */
  notes: string[];
}

const WAL_RE = /^wal-(\d{6})\.log$/;
const SNAP_RE = /^snap-(\d{12})\.snap$/;

export class DiskStorage {
  readonly faults: DiskFaults = { slowFsyncMs: 0, failWrites: false };
  readonly stats: StorageStats = {
    fsyncs: 0,
    records: 0,
    entriesWritten: 0,
    fsyncMsTotal: 0,
    lastFsyncMs: 0,
    walBytes: 0,
  };

  private wal: FileHandle | null = null;
  private walSeq = 0;
  private hs: HardState = { term: 0, votedFor: null, commit: 0 };
  private snapshotIndex = 0;
  /** Mirror of the stored entries after the snapshot, so compaction can rewrite them. */
  private entries: Entry[] = [];
  private broken: Error | null = null;

  private constructor(readonly dir: string) {}

  /** Opens (creating if needed) the storage in `dir` and recovers what it holds. */
  static async open(dir: string, bootstrapConf: ConfState): Promise<{ storage: DiskStorage; loaded: LoadResult }> {
    mkdirSync(dir, { recursive: true });
    const s = new DiskStorage(dir);
    const marker = join(dir, DAMAGE_MARKER);
    const recorded = await readFile(marker, 'utf8').catch(() => null);
    if (recorded !== null) throw new DamagedServerError(dir, recorded);
    try {
      const loaded = await s.recover(bootstrapConf);
      return { storage: s, loaded };
    } catch (e) {
      // Damage is remembered: a later start refuses too, whatever happens to the files meanwhile.
      if (e instanceof StorageCorruptionError) {
        // The damage is what the operator must hear about; a marker that cannot be written (a
        // read-only or failing disk) must not take its place, only be mentioned alongside it.
        try {
          await writeFile(marker, `${new Date().toISOString()} ${e.message}\n`);
          await syncDir(dir);
        } catch (markerErr) {
          e.message +=
            ` (The ${DAMAGE_MARKER} marker could not be written: ` +
            `${markerErr instanceof Error ? markerErr.message : String(markerErr)}. ` +
            'A later start will not know about this damage: do not restart this server under its id.)';
        }
      }
      throw e;
    }
  }

  private async recover(bootstrapConf: ConfState): Promise<LoadResult> {
    const notes: string[] = [];
    const names = await readdir(this.dir);
    for (const n of names) if (n.endsWith('.tmp')) await rm(join(this.dir, n)); // an interrupted snapshot write

    // The latest snapshot. Older ones are removed once a newer one is durable, so a damaged one
    // cannot be replaced by an older: refuse instead of guessing.
    const snaps = names.filter((n) => SNAP_RE.test(n)).sort();
    let snapshot: Snapshot | null = null;
    if (snaps.length) {
      const file = snaps[snaps.length - 1];
      const buf = await readFile(join(this.dir, file));
      const d = decodeRecord(buf, 0);
      if (d.kind !== 'record')
        throw new StorageCorruptionError(file, 0, `snapshot file unreadable: ${'reason' in d ? d.reason : 'empty'}`);
      snapshot = d.value as Snapshot;
      this.snapshotIndex = snapshot.index;
    }

    const segments = names.filter((n) => WAL_RE.test(n)).sort();
    let hs: HardState = { term: 0, votedFor: null, commit: 0 };
    let entries: Entry[] = [];
    for (let i = 0; i < segments.length; i++) {
      const file = segments[i];
      const path = join(this.dir, file);
      const buf = await readFile(path);
      let offset = 0;
      for (;;) {
        const d = decodeRecord(buf, offset);
        if (d.kind === 'end') break;
        if (d.kind === 'record') {
          const r = d.value as WalRecord;
          hs = r.hs;
          if (r.base) entries = entries.filter((e) => e.index > r.base!.snapshotIndex);
          if (r.snap) entries = r.snap.replaces ? [] : entries.filter((e) => e.index > r.snap!.index);
          if (r.ents?.length) {
            const first = r.ents[0].index;
            entries = entries.filter((e) => e.index < first).concat(r.ents);
          }
          offset = d.end;
          continue;
        }
        // Only the tail of the newest segment may be an unfinished (never acknowledged) write, and
        // only in the shapes a crashed append leaves (see isTornTail); anything else is damage.
        if (i < segments.length - 1 || !isTornTail(buf, offset)) {
          const middle = hasRecordAfter(buf, offset) || intactRecordAfter(buf, offset) >= 0;
          throw new StorageCorruptionError(file, offset, d.reason, middle ? 'middle' : 'last');
        }
        const lost = buf.length - offset;
        const fh = await open(path, 'r+');
        await fh.truncate(offset);
        await fh.datasync();
        await fh.close();
        notes.push(
          `truncated a torn tail of ${lost} bytes at byte ${offset} of ${file} (${d.reason}): an unfinished write from a crash, never acknowledged`,
        );
        break;
      }
    }
    // Entries the snapshot covers are obsolete even if a record still lists them.
    entries = entries.filter((e) => e.index > this.snapshotIndex);
    for (let i = 1; i < entries.length; i++) {
      if (entries[i].index !== entries[i - 1].index + 1) {
        throw new StorageCorruptionError(
          segments[segments.length - 1] ?? '(wal)',
          0,
          `log has a gap between ${entries[i - 1].index} and ${entries[i].index}`,
        );
      }
    }
    if (snapshot && hs.commit < snapshot.index) hs = { ...hs, commit: snapshot.index };
    this.hs = hs;
    this.entries = entries;

    this.walSeq = segments.length ? Number(WAL_RE.exec(segments[segments.length - 1])![1]) : 1;
    this.wal = await openWal(join(this.dir, walName(this.walSeq)), 'append');
    this.stats.walBytes = (await stat(join(this.dir, walName(this.walSeq)))).size;
    await syncDir(this.dir);
    return { state: { hardState: { ...hs }, snapshot, entries: [...entries], bootstrapConf }, notes };
  }

  /** Makes a Ready's state durable. Resolves only once it is on disk (fdatasync). */
  async persist(rd: Ready): Promise<void> {
    if (this.broken) throw this.broken;
    if (rd.hardState) this.hs = rd.hardState;
    if (!rd.mustSync && !rd.snapshot) return; // commit index only: rides with the next synced record
    try {
      if (this.faults.failWrites) throw new Error('injected disk fault: writes fail');
      let snap: WalRecord['snap'];
      if (rd.snapshot) {
        await this.writeSnapshotFile(rd.snapshot);
        snap = { index: rd.snapshot.index, term: rd.snapshot.term, replaces: rd.restoreStateMachine };
        this.snapshotIndex = rd.snapshot.index;
        this.entries = rd.restoreStateMachine ? [] : this.entries.filter((e) => e.index > rd.snapshot!.index);
      }
      if (rd.entries.length) this.mirror(rd.entries);
      const record: WalRecord = {
        hs: this.hs,
        ...(rd.entries.length ? { ents: rd.entries } : {}),
        ...(snap ? { snap } : {}),
      };
      await this.append(record, rd.entries.length);
      if (rd.snapshot) await this.compact();
    } catch (e) {
      this.broken = e instanceof StorageWriteError ? e : new StorageWriteError('writing the log', e);
      throw this.broken;
    }
  }

  /** Keeps the mirror of stored entries: usually a plain append, a truncation only on conflict. */
  private mirror(ents: Entry[]): void {
    const first = ents[0].index;
    const base = this.snapshotIndex + 1;
    const keep = Math.max(0, Math.min(this.entries.length, first - base));
    if (keep < this.entries.length) this.entries.length = keep;
    for (const e of ents) this.entries.push(e);
  }

  private async append(record: WalRecord, entryCount: number): Promise<void> {
    const buf = encodeRecord(record);
    const t0 = performance.now();
    if (this.faults.slowFsyncMs > 0) await new Promise((r) => setTimeout(r, this.faults.slowFsyncMs));
    await this.wal!.write(buf); // durable when it returns (O_DSYNC): the write is the sync
    const ms = performance.now() - t0;
    this.stats.fsyncs++;
    this.stats.records++;
    this.stats.entriesWritten += entryCount;
    this.stats.fsyncMsTotal += ms;
    this.stats.lastFsyncMs = ms;
    this.stats.walBytes += buf.length;
  }

  /** Snapshot files are written to a temporary name, synced, then renamed into place. */
  private async writeSnapshotFile(s: Snapshot): Promise<void> {
    const name = `snap-${String(s.index).padStart(12, '0')}.snap`;
    const tmp = join(this.dir, `${name}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.write(encodeRecord(s));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, name));
    await syncDir(this.dir);
  }

  /** After a snapshot: start a new segment holding only what follows it, then drop the old
   *  segments and snapshots. Disk use stays bounded by the snapshot plus the recent tail. */
  private async compact(): Promise<void> {
    const next = this.walSeq + 1;
    const fh = await openWal(join(this.dir, walName(next)), 'create');
    const record: WalRecord = { hs: this.hs, base: { snapshotIndex: this.snapshotIndex }, ents: this.entries };
    const buf = encodeRecord(record);
    await fh.write(buf); // durable when it returns (O_DSYNC)
    await syncDir(this.dir);
    await this.wal!.close();
    this.wal = fh;
    const old = this.walSeq;
    this.walSeq = next;
    this.stats.walBytes = buf.length;
    for (const n of await readdir(this.dir)) {
      const w = WAL_RE.exec(n);
      const sn = SNAP_RE.exec(n);
      if ((w && Number(w[1]) <= old) || (sn && Number(sn[1]) < this.snapshotIndex)) await rm(join(this.dir, n));
    }
    await syncDir(this.dir);
  }

  /** Bytes the storage occupies on disk now. */
  async diskBytes(): Promise<number> {
    let total = 0;
    for (const n of await readdir(this.dir))
      if (WAL_RE.test(n) || SNAP_RE.test(n)) total += (await stat(join(this.dir, n))).size;
    return total;
  }

  async close(): Promise<void> {
    await this.wal?.close();
    this.wal = null;
  }
}

/** Whether the bytes after the record at `offset` hold anything (another record, even damaged). */
function hasRecordAfter(buf: Buffer, offset: number): boolean {
  if (buf.length - offset < HEADER_BYTES) return false;
  const end = offset + HEADER_BYTES + buf.readUInt32LE(offset);
  return end < buf.length;
}

function walName(seq: number): string {
  return `wal-${String(seq).padStart(6, '0')}.log`;
}

/** A rename or a new file is durable only once its directory is synced. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A WAL segment, opened for appends that are durable when they return (O_DSYNC): the newest one
 *  as found at start-up, or a new one (emptied if a crash left one by that name). */
function openWal(path: string, how: 'append' | 'create'): Promise<FileHandle> {
  const { O_WRONLY, O_APPEND, O_CREAT, O_TRUNC, O_DSYNC } = constants;
  return open(path, O_WRONLY | O_APPEND | O_CREAT | O_DSYNC | (how === 'create' ? O_TRUNC : 0));
}

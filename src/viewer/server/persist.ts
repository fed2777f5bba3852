// The viewer's history on disk, so a restarted `npm start` shows what came before: append-only
// segment files <data-dir>/viewer/segment-NNNNNN.jsonl, one line per ingested batch: the OTLP JSON
// request as it came, or (protobuf, imports) a JSON array of flat spans. Writes are queued and done by one async writer (libuv's thread pool),
// never on the event loop; if the disk falls behind by more than `maxQueueBytes`, batches are not
// written and counted as dropped rather than held in memory. A segment closes at `segmentBytes`;
// the oldest segments are deleted while the total exceeds `maxDiskBytes`. A torn last line (a
// crash mid-write) is skipped on reload.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { flattenOtlp, type ExportTraceServiceRequest, type FlatSpan } from '../../traces/otlp.js';

export interface PersistOptions {
  dir: string;
  segmentBytes?: number;
  maxDiskBytes?: number;
  maxQueueBytes?: number;
}

export interface PersistStats {
  dir: string;
  segments: number;
  diskBytes: number;
  droppedBatches: number;
  writeErrors: number;
  lastError?: string;
}

const NAME = /^segment-(\d{6,})\.jsonl$/;

export class SpanLog {
  readonly dir: string;
  private readonly segmentBytes: number;
  private readonly maxDiskBytes: number;
  private readonly maxQueueBytes: number;
  private segments: { n: number; bytes: number }[] = [];
  private queue: string[] = [];
  private queuedBytes = 0;
  private writing: Promise<void> | null = null;
  private handle: FileHandle | null = null;
  private droppedBatches = 0;
  private writeErrors = 0;
  private lastError: string | undefined;

  constructor(opts: PersistOptions) {
    this.dir = opts.dir;
    this.segmentBytes = opts.segmentBytes ?? 16 * 1024 * 1024;
    this.maxDiskBytes = opts.maxDiskBytes ?? 256 * 1024 * 1024;
    this.maxQueueBytes = opts.maxQueueBytes ?? 64 * 1024 * 1024;
    mkdirSync(this.dir, { recursive: true });
    this.segments = readdirSync(this.dir)
      .map((f) => NAME.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ n: Number(m[1]), bytes: statSync(join(this.dir, m[0])).size }))
      .sort((a, b) => a.n - b.n);
  }

  private path(n: number): string {
    return join(this.dir, `segment-${String(n).padStart(6, '0')}.jsonl`);
  }

  /**
   * Every batch on disk, oldest first, handed to `onBatch`. Yields to the event loop between
   * lines, so a server that is already listening keeps answering while history loads.
   */
  async load(onBatch: (spans: FlatSpan[]) => void): Promise<{ batches: number; skipped: number }> {
    let batches = 0;
    let skipped = 0;
    for (const seg of [...this.segments]) {
      let text: string;
      try {
        text = await readFile(this.path(seg.n), 'utf8');
      } catch {
        continue;
      }
      let from = 0;
      while (from < text.length) {
        let to = text.indexOf('\n', from);
        if (to < 0) to = text.length;
        const line = text.slice(from, to);
        from = to + 1;
        if (line.trim() === '') continue;
        try {
          // A line is flat spans (an array) or an OTLP JSON request as received (an object).
          const doc = JSON.parse(line) as unknown;
          onBatch(Array.isArray(doc) ? (doc as FlatSpan[]) : flattenOtlp(doc as ExportTraceServiceRequest));
          batches++;
        } catch {
          skipped++;
        }
        if (batches % 50 === 0) await new Promise<void>((r) => setImmediate(r));
      }
    }
    return { batches, skipped };
  }

  /** Queues a batch for the disk; returns at once. */
  append(spans: FlatSpan[]): void {
    if (spans.length === 0) return;
    this.enqueue(JSON.stringify(spans) + '\n');
  }

  /** Queues an OTLP JSON request, as received (checked already), for the disk. */
  appendOtlpJson(text: string): void {
    // A newline in JSON text can only be whitespace between tokens (inside strings it is escaped),
    // so turning it into a space keeps the document and makes it one line.
    this.enqueue((/[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text) + '\n');
  }

  private enqueue(line: string): void {
    if (this.queuedBytes + line.length > this.maxQueueBytes) {
      this.droppedBatches++;
      return;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    this.writing ??= this.drain().finally(() => (this.writing = null));
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      // As many lines as fit in the current segment (at least one): a segment passes its size by
      // one line at most, however far the writer fell behind.
      const seg = this.segments.at(-1);
      const room = !seg || seg.bytes >= this.segmentBytes ? this.segmentBytes : this.segmentBytes - seg.bytes;
      let n = 0;
      let size = 0;
      while (n < this.queue.length && (n === 0 || size + this.queue[n].length <= room)) size += this.queue[n++].length;
      const chunk = this.queue.splice(0, n).join('');
      this.queuedBytes -= size;
      try {
        await this.write(chunk);
      } catch (e) {
        this.writeErrors++;
        this.lastError = (e as Error).message;
        await this.closeHandle();
      }
    }
  }

  private async write(chunk: string): Promise<void> {
    let seg = this.segments.at(-1);
    if (!seg || !this.handle || seg.bytes >= this.segmentBytes) {
      await this.closeHandle();
      if (!seg || seg.bytes >= this.segmentBytes) {
        seg = { n: (seg?.n ?? 0) + 1, bytes: 0 };
        this.segments.push(seg);
      }
      this.handle = await open(this.path(seg.n), 'a+', 0o600);
      // A segment left by a crash may end mid-line: end that line, or the next batch joins it.
      if (seg.bytes > 0) {
        const last = Buffer.alloc(1);
        await this.handle.read(last, 0, 1, seg.bytes - 1);
        if (last[0] !== 0x0a) chunk = '\n' + chunk;
      }
    }
    const buf = Buffer.from(chunk, 'utf8');
    await this.handle.write(buf);
    seg.bytes += buf.length;
    await this.trim();
  }

  /** Deletes the oldest segments (never the one being written) while the total is over the cap. */
  private async trim(): Promise<void> {
    let total = this.segments.reduce((n, s) => n + s.bytes, 0);
    while (total > this.maxDiskBytes && this.segments.length > 1) {
      const old = this.segments.shift()!;
      total -= old.bytes;
      await rm(this.path(old.n), { force: true });
    }
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (h) await h.close().catch(() => {});
  }

  /** Waits for every queued batch to reach the disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.closeHandle();
  }

  stats(): PersistStats {
    const s: PersistStats = {
      dir: this.dir,
      segments: this.segments.length,
      diskBytes: this.segments.reduce((n, x) => n + x.bytes, 0),
      droppedBatches: this.droppedBatches,
      writeErrors: this.writeErrors,
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }
}

// Without an OTLP endpoint, spans are written as OTLP JSON, one ExportTraceServiceRequest per
// line, to <dir>/spans.jsonl. Any OTLP-JSON reader can load them line by line; the built-in trace
// viewer reads them. (Jaeger's UI upload takes one request per file.)
//
// Writes never block the event loop: each batch is appended asynchronously, in order (one chain of
// appends), and the batch processor hears of success when its line is written. The files are
// bounded: when spans.jsonl would pass `maxBytes`, it becomes spans.1.jsonl (spans.1 becomes
// spans.2, and so on), and the oldest beyond `keep` is deleted. So a node's traces take at most
// (keep + 1) x maxBytes on disk (a single batch larger than maxBytes gets a file of its own).
import { mkdirSync } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface RotationOptions {
  /** Rotate when the current file would pass this many bytes. */
  maxBytes: number;
  /** How many rotated files (spans.1.jsonl ... spans.<keep>.jsonl) to keep. */
  keep: number;
}

export const DEFAULT_ROTATION: RotationOptions = { maxBytes: 16 * 1024 * 1024, keep: 2 };

/** The name of the n-th file: 0 is the one being written. */
export function traceFileName(n: number): string {
  return n === 0 ? 'spans.jsonl' : `spans.${n}.jsonl`;
}

export class OtlpJsonFileExporter implements SpanExporter {
  readonly file: string;
  private handle: FileHandle | null = null;
  private size = 0;
  /** The chain of appends: each waits for the one before, so lines keep their order. */
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly rotation: RotationOptions = DEFAULT_ROTATION,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, traceFileName(0));
  }

  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    if (this.closed) {
      done({ code: ExportResultCode.FAILED, error: new Error('the trace file exporter is shut down') });
      return;
    }
    let line: Uint8Array;
    try {
      const bytes = JsonTraceSerializer.serializeRequest(spans);
      if (!bytes || !bytes.length) return done({ code: ExportResultCode.SUCCESS });
      line = bytes;
    } catch (error) {
      return done({ code: ExportResultCode.FAILED, error: error as Error });
    }
    this.tail = this.tail.then(() =>
      this.append(line).then(
        () => done({ code: ExportResultCode.SUCCESS }),
        (error: unknown) =>
          done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
      ),
    );
  }

  /** Appends the serializer's bytes (UTF-8 JSON already) and a newline, in one write, uncopied. */
  private async append(line: Uint8Array): Promise<void> {
    if (!this.handle) await this.openCurrent();
    const size = line.length + NEWLINE.length;
    if (this.size > 0 && this.size + size > this.rotation.maxBytes) await this.rotate();
    const { bytesWritten } = await this.handle!.writev([line, NEWLINE]);
    // A short write (a full disk) would leave half a line: say so rather than count it written.
    if (bytesWritten !== size) throw new Error(`wrote ${bytesWritten} of ${size} bytes to ${this.file}`);
    this.size += size;
  }

  private async openCurrent(): Promise<void> {
    this.handle = await open(this.file, 'a');
    this.size = (await stat(this.file)).size;
  }

  /** spans.jsonl -> spans.1.jsonl, each older one a step further, the oldest beyond `keep` deleted. */
  private async rotate(): Promise<void> {
    await this.handle!.close();
    this.handle = null;
    const path = (n: number) => join(this.dir, traceFileName(n));
    await rm(path(this.rotation.keep), { force: true });
    for (let n = this.rotation.keep - 1; n >= 0; n--) {
      await rename(path(n), path(n + 1)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
    await this.openCurrent();
  }

  /** Resolves when every batch handed over so far is written. */
  async forceFlush(): Promise<void> {
    await this.tail;
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    await this.tail;
    await this.handle?.close();
    this.handle = null;
  }
}

const NEWLINE = Buffer.from('\n');

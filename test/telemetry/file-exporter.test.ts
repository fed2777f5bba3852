// The OTLP JSON file exporter (src/telemetry/file-exporter.ts): it hands each batch to the disk
// without blocking the event loop, keeps the batches in order, and keeps the files bounded by
// rotating them.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OtlpJsonFileExporter, traceFileName } from '../../src/telemetry/file-exporter.js';

const memory = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });

/** A batch of `n` finished spans named `<name>.<i>`. */
function batch(name: string, n = 1): ReadableSpan[] {
  memory.reset();
  for (let i = 0; i < n; i++) provider.getTracer('test').startSpan(`${name}.${i}`).end();
  return memory.getFinishedSpans();
}

/** The span names of each line of a file, in order. */
function linesOf(file: string): string[][] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n'), `${file} ends with a whole line`).toBe(true);
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const req = JSON.parse(line) as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] };
      return req.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.name)));
    });
}

function exportNow(e: OtlpJsonFileExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => e.export(spans, resolve));
}

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'raft-otel-file-exporter-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the OTLP JSON file exporter', () => {
  it('returns before the disk write, and reports it done once written', async () => {
    const e = new OtlpJsonFileExporter(dir);
    let result: ExportResult | null = null;
    e.export(batch('a'), (r) => (result = r));
    // Nothing happened synchronously: no appendFileSync holding the event loop.
    expect(result).toBeNull();
    await e.forceFlush();
    expect(result).toEqual({ code: ExportResultCode.SUCCESS });
    expect(linesOf(e.file)).toEqual([['a.0']]);
    await e.shutdown();
  });

  it('keeps the batches in the order they were exported', async () => {
    const e = new OtlpJsonFileExporter(dir);
    // Batches of very different sizes, handed over at once: a small one must not overtake a large one.
    const sizes = [400, 1, 50, 1, 300, 2, 1, 120];
    for (const [i, n] of sizes.entries()) e.export(batch(`b${i}`, n), () => {});
    await e.forceFlush();
    expect(linesOf(e.file).map((names) => names[0])).toEqual(sizes.map((_, i) => `b${i}.0`));
    await e.shutdown();
  });

  it('rotates: spans.jsonl, then spans.1.jsonl ... spans.<keep>.jsonl, the oldest deleted', async () => {
    const one = JSON.stringify(JSON.parse(readFileSync(await firstLine(dir), 'utf8'))).length + 1;
    // Room for three one-span lines per file, two older files kept.
    const e = new OtlpJsonFileExporter(dir, { maxBytes: one * 3 + 10, keep: 2 });
    for (let i = 0; i < 20; i++) e.export(batch(`c${String(i).padStart(2, '0')}`), () => {});
    await e.forceFlush();
    const files = [0, 1, 2].map((n) => join(dir, traceFileName(n)));
    expect(existsSync(join(dir, traceFileName(3))), 'a fourth file').toBe(false);
    for (const f of files) expect(statSync(f).size, f).toBeLessThanOrEqual(one * 3 + 10);
    // Oldest to newest, the kept lines are the last ones exported, in order.
    const kept = [files[2], files[1], files[0]].flatMap((f) => linesOf(f).map((names) => names[0]));
    const last = Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, '0')}.0`).slice(-kept.length);
    expect(kept).toEqual(last);
    expect(kept.length).toBeGreaterThanOrEqual(7); // three files, the newest possibly part-full
    await e.shutdown();
  });

  it('counts what an earlier run left in spans.jsonl toward the bound', async () => {
    const file = join(dir, traceFileName(0));
    writeFileSync(file, 'x'.repeat(5000) + '\n');
    const e = new OtlpJsonFileExporter(dir, { maxBytes: 6000, keep: 1 });
    await exportNow(e, batch('d', 20)); // over 1000 bytes: spans.jsonl must rotate first
    await e.shutdown();
    expect(readFileSync(join(dir, traceFileName(1)), 'utf8')).toBe('x'.repeat(5000) + '\n');
    expect(linesOf(file)).toHaveLength(1);
  });

  it('writes what is pending before it shuts down, and refuses batches after', async () => {
    const e = new OtlpJsonFileExporter(dir);
    e.export(batch('e', 100), () => {});
    await e.shutdown();
    expect(linesOf(e.file)).toHaveLength(1);
    expect((await exportNow(e, batch('late'))).code).toBe(ExportResultCode.FAILED);
  });
});

/** A file holding one exported line, to learn a one-span line's size. */
async function firstLine(parent: string): Promise<string> {
  const probe = join(parent, 'probe');
  const e = new OtlpJsonFileExporter(probe);
  await exportNow(e, batch('c00'));
  await e.shutdown();
  return e.file;
}
